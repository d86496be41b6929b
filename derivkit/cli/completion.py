"""Shell completion of symbols and contract types (``derivkit --install-completion``).

Completion runs offline and fast: symbols come from the list the last command fetched from a server
(kept in the data dir), else the simulator's catalogue; contract types from the known list. Both
match in any case, as the commands accept any case.
"""

from __future__ import annotations

__all__ = ["complete_contract_type", "complete_symbol"]


def _matching(candidates: list[str], incomplete: str) -> list[str]:
    """Candidates that start with ``incomplete`` in any case. The shell keeps only words that
    start with what was typed, so after a lowercase start they come in lowercase (``r_1`` ->
    ``r_100``; the commands accept any case), else as the server spells them."""
    prefix = incomplete.lower()
    found = [item for item in candidates if item.lower().startswith(prefix)]
    if incomplete != incomplete.upper() and incomplete == incomplete.lower():
        return [item.lower() for item in found]
    return [item for item in found if item.startswith(incomplete)] or [
        incomplete + item[len(incomplete) :] for item in found
    ]


def complete_symbol(incomplete: str) -> list[str]:
    from derivkit.cli.runner import remembered_symbols

    return _matching(remembered_symbols(), incomplete)


def complete_contract_type(incomplete: str) -> list[str]:
    from derivkit.formatting import CONTRACT_TYPES, PRODUCT_TYPES

    return _matching([*CONTRACT_TYPES, *PRODUCT_TYPES], incomplete)
