"""medwatch-tool: draft FDA MedWatch-style adverse event reports.

The public API is plain Python, the CLI is a thin layer over it:

    from medwatch_tool import build_draft, validate_tree, render
"""
__version__ = "0.1.0"
