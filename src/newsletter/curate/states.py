"""The issue state machine: the single authority on which moves are allowed and what each state
permits. Use cases, the send loop, the CLI and the desk ask it instead of listing states. Pure."""

from __future__ import annotations

from newsletter.domain.model import IssueState

# Which states an issue may move to from each state.
TRANSITIONS: dict[IssueState, frozenset[IssueState]] = {
    IssueState.DRAFT: frozenset({IssueState.SCHEDULED, IssueState.SENDING, IssueState.CANCELED}),
    IssueState.SCHEDULED: frozenset({IssueState.DRAFT, IssueState.SENDING, IssueState.CANCELED}),
    IssueState.SENDING: frozenset({IssueState.SENT}),
    IssueState.SENT: frozenset(),
    IssueState.CANCELED: frozenset({IssueState.DRAFT}),
}


def can_move(current: IssueState, to: IssueState) -> bool:
    return to in TRANSITIONS[current]


def sources_of(target: IssueState) -> tuple[IssueState, ...]:
    """The states an issue may be in to move to `target`."""
    return tuple(state for state, targets in TRANSITIONS.items() if target in targets)


def can_start_sending(state: IssueState) -> bool:
    """Whether a send may begin from `state` (rendering and freezing the message first)."""
    return can_move(state, IssueState.SENDING)


def is_editable(state: IssueState) -> bool:
    """Whether editors may change the issue's content: only a draft, which nothing sends."""
    return state is IssueState.DRAFT


def is_published(state: IssueState) -> bool:
    """Whether the issue went out, so the public archive shows it."""
    return state is IssueState.SENT
