"""Tools offered to the evaluated model."""

from equanimity.tools.end_conversation import END_NOTICE, END_TOOL_NAME, end_conversation

__all__ = ["END_NOTICE", "END_TOOL_NAME", "end_conversation"]
