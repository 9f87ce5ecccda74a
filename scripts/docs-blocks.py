#!/usr/bin/env python3
"""The command blocks of README.md and docs/*.md, for scripts/test-docs.sh.

A command block is a code block (indented by four spaces, or fenced as sh/bash/shell) whose first
command is one a user types (./scripts/…, voicevault, curl, dotnet, export, …); layouts, formulas,
JSON, XML and unit files are not. Every command block carries, on a line of its own just before
it, either

    <!-- test: NAME -->            scripts/test-docs.sh runs it, exactly as written, as NAME
    <!-- not tested: REASON -->    it cannot run here, and REASON says why

  docs-blocks.py get NAME           prints block NAME's text
  docs-blocks.py check NAME…        fails (listing each) if a command block carries no mark, if a
                                    mark is on no block, or if the names given (the blocks the test
                                    ran) differ from the names marked
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = re.compile(r"^<!--\s*(test|not tested):\s*(.*?)\s*-->\s*$")
COMMAND = re.compile(r"^(\./|scripts/|\. |source |voicevault\b|curl\b|dotnet\b|export\b|podman\b|openssl\b|python3?\b|sudo\b|[A-Z_]+=)")


def blocks(path):
    """(line, text, mark kind, mark value) of every code block of a Markdown file."""
    lines = open(path, encoding="utf-8").read().split("\n")
    found, i, mark = [], 0, None
    while i < len(lines):
        line = lines[i]
        match = MARK.match(line)
        if match:
            mark = (match.group(1), match.group(2), i + 1)
            i += 1
            continue
        fence = re.match(r"^```(\w*)", line)
        if fence:
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            if fence.group(1) in ("", "sh", "bash", "shell", "console"):
                found.append((i + 1, "\n".join(lines[i + 1:j]), mark))
            mark, i = None, j + 1
            continue
        if line.startswith("    ") and (i == 0 or lines[i - 1].strip() == "" or MARK.match(lines[i - 1])) and not in_list(lines, i):
            j = i
            while j < len(lines) and (lines[j].startswith("    ") or (lines[j].strip() == "" and j + 1 < len(lines) and lines[j + 1].startswith("    "))):
                j += 1
            found.append((i + 1, "\n".join(l[4:] for l in lines[i:j]), mark))
            mark, i = None, j
            continue
        if line.strip():
            mark = None if not MARK.match(line) else mark
        i += 1
    return found


def in_list(lines, i):
    """Whether line i continues a list item (an indented paragraph, not a code block)."""
    k = i - 1
    while k >= 0 and lines[k].strip() == "":
        k -= 1
    return k >= 0 and re.match(r"^\s*([*+-]|\d+\.)\s", lines[k]) is not None and not lines[k].startswith("    ")


def is_command(text):
    for line in text.split("\n"):
        line = line.strip()
        if line and not line.startswith("#"):
            return COMMAND.match(line) is not None
    return False


def all_blocks():
    files = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    for path in files:
        for line, text, mark in blocks(path):
            yield os.path.relpath(path, ROOT), line, text, mark


def main(argv):
    if len(argv) == 3 and argv[1] == "get":
        named = [text for _, _, text, mark in all_blocks() if mark and mark[0] == "test" and mark[1] == argv[2]]
        if len(named) != 1:
            sys.exit(f"docs-blocks: {len(named)} blocks are marked <!-- test: {argv[2]} -->; there must be one")
        print(named[0])
        return
    if len(argv) >= 2 and argv[1] == "check":
        problems, marked = [], set()
        for path, line, text, mark in all_blocks():
            if mark is None:
                if is_command(text):
                    problems.append(f"{path}:{line}: a command block with no <!-- test: NAME --> or <!-- not tested: REASON --> before it")
                continue
            kind, value, _ = mark
            if kind == "not tested" and len(value) < 10:
                problems.append(f"{path}:{line}: <!-- not tested --> needs the reason")
            if kind == "test":
                if value in marked:
                    problems.append(f"{path}:{line}: a second block named {value}")
                marked.add(value)
        ran = set(argv[2:])
        for name in sorted(marked - ran):
            problems.append(f"block {name} is marked to be tested but scripts/test-docs.sh did not run it")
        for name in sorted(ran - marked):
            problems.append(f"scripts/test-docs.sh ran {name}, but no block is marked so")
        if problems:
            sys.exit("\n".join(problems))
        print(f"docs-blocks: {len(marked)} command blocks run, every other one marked with its reason")
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
