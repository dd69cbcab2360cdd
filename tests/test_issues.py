"""Issue use-cases on a real database: draft, schedule, unschedule, cancel, test copies."""

from __future__ import annotations

from datetime import timedelta

import pytest

from newsletter.curate import issues
from newsletter.curate.editors import add_editor, authenticate, end_sessions, get_editor
from newsletter.deliver.memory import MemoryProvider
from newsletter.domain.clock import FrozenClock
from newsletter.domain.errors import ProviderError, UsageError
from newsletter.domain.model import ArticleDraft, FeedSource, IssueState
from newsletter.runtime import curation
from newsletter.runtime.wiring import Services


def _articles(services: Services, n: int) -> None:
    services.store.feeds.sync([FeedSource("f", "https://example.org/feed", "Une")])
    drafts = [
        ArticleDraft("f", f"g{i}", f"https://example.org/{i}", f"Titre {i}", "Résumé", "", None,
                     None, services.clock() - timedelta(hours=i))
        for i in range(n)
    ]  # fmt: skip
    services.store.articles.add(services.store.feeds.id_of("f"), drafts, services.clock())


def test_draft_uses_each_article_once(services: Services) -> None:
    """A draft takes the newest unused articles; the next draft has none left to take."""
    _articles(services, 3)
    first = curation.draft(services)
    assert first.issue is not None
    assert [item.article.title for item in first.issue.items] == ["Titre 0", "Titre 1", "Titre 2"]
    # The number is given when sending starts; until then the subject keeps its field.
    assert first.issue.subject == "MaddyNews n°{number}"
    assert (first.issue.number, first.issue.numbered) == (1, False)
    assert first.to_json() == {
        "id": first.issue.id,
        "articles": 3,
        "reason": None,
        "existing": False,
    }
    issues.cancel(services.store.issues, first.issue.id)
    second = curation.draft(services)
    assert second.issue is None
    assert second.to_json()["reason"] == "only 0 new article(s); at least 1 needed"


def test_schedule_unschedule_cancel(services: Services, clock: FrozenClock) -> None:
    """Scheduling needs an aware time; only drafts are scheduled; sent issues stay sent."""
    _articles(services, 2)
    outcome = curation.draft(services)
    assert outcome.issue is not None
    issue_id = outcome.issue.id
    with pytest.raises(UsageError, match="time zone"):
        issues.schedule(services.store.issues, issue_id, clock().replace(tzinfo=None))
    when = clock() + timedelta(days=1)
    scheduled = issues.schedule(services.store.issues, issue_id, when)
    assert (scheduled.state, scheduled.send_at) == (IssueState.SCHEDULED, when)
    with pytest.raises(UsageError, match="only a draft"):
        issues.schedule(services.store.issues, issue_id, when)
    assert issues.unschedule(services.store.issues, issue_id).state is IssueState.DRAFT
    assert issues.cancel(services.store.issues, issue_id).state is IssueState.CANCELED
    with pytest.raises(UsageError, match="does not exist"):
        issues.get(services.store.issues, 999)


def test_send_test_copy(services: Services) -> None:
    """A test copy goes to the given address with [TEST] in the subject; a refusal is an error."""
    _articles(services, 1)
    outcome = curation.draft(services)
    assert outcome.issue is not None
    provider = services.provider
    assert isinstance(provider, MemoryProvider)
    assert (
        curation.send_test(services, outcome.issue.id, "Editor@Example.org") == "editor@example.org"
    )
    [copy] = provider.to("editor@example.org")
    assert copy.copy.subject.startswith("[TEST] ")
    assert services.store.deliveries.status(outcome.issue.id, IssueState.DRAFT).total == 0
    provider.refuse.add("bad@example.org")
    with pytest.raises(ProviderError, match="not sent"):
        curation.send_test(services, outcome.issue.id, "bad@example.org")


def test_out_of_range_ids_are_unknown_issues(services: Services) -> None:
    """An id past the 32-bit column range is a clean 'does not exist', not a crash."""
    with pytest.raises(UsageError, match="does not exist"):
        issues.get(services.store.issues, 10_523_134_577_185_077_248)
    assert services.store.issues.get(-1) is None


def test_editor_accounts(services: Services) -> None:
    """A name is taken once; the right password logs in, a wrong one or an unknown name does
    not; logging out changes the credential version every session cookie carries."""
    editors, now = services.store.editors, services.clock()
    add_editor(editors, now, " camille ", "correct horse battery", email="Camille@Example.org")
    with pytest.raises(UsageError, match="already exists"):
        add_editor(editors, now, "camille", "another long password")
    assert authenticate(editors, "camille", "wrong password") is None
    assert authenticate(editors, "nobody", "correct horse battery") is None
    assert authenticate(editors, "bad\x00name", "correct horse battery") is None
    editor = authenticate(editors, "camille", "correct horse battery")
    assert editor is not None and editor.email == "camille@example.org"
    assert get_editor(editors, editor.id) == editor
    end_sessions(editors, editor.id)
    after = get_editor(editors, editor.id)
    assert after is not None and after.credential_version != editor.credential_version
    assert get_editor(editors, editor.id + 1) is None
