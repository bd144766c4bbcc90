"""Grounding evaluation (see issue: grounding evaluation suite). Nothing here yet."""
