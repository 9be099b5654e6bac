#!/usr/bin/env python3
"""Writes docs/api.md, the API reference, from include/rill.h (the header's own comments).

    python3 scripts/gen-api-md.py            rewrite docs/api.md
    python3 scripts/gen-api-md.py --check    exit 1 if docs/api.md is out of date, or if an
                                             exported function has no comment, or an int
                                             function's comment names no status

The header is the source of truth; this only rearranges it: the conventions, the constants as
tables, the types, then every function under its header section with its comment.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = os.path.join(ROOT, "include", "rill.h")
OUTPUT = os.path.join(ROOT, "docs", "api.md")


def uncomment(lines):
    """Comment lines without the comment markers and the leading ' * '."""
    text = []
    for line in lines:
        line = line.strip()
        line = re.sub(r"^/\*+\s?", "", line)
        line = re.sub(r"\s*\*+/$", "", line)
        line = re.sub(r"^\*\s?", "", line) if line != "*" else ""
        text.append(line)
    while text and not text[0]:
        text.pop(0)
    while text and not text[-1]:
        text.pop()
    return text


def as_markdown(text):
    """Comment text to markdown: indented lines (formulas) become code, the rest paragraphs."""
    out, para, code = [], [], []

    def flush_para():
        if para:
            out.append(" ".join(para))
            out.append("")
            para.clear()

    def flush_code():
        if code:
            out.append("```")
            out.extend(code)
            out.append("```")
            out.append("")
            code.clear()

    bullet_indent = None  # text column of the current list item's continuation lines
    for line in text:
        indent = len(line) - len(line.lstrip())
        if not line.strip():
            flush_para()
            flush_code()
            bullet_indent = None
        elif re.match(r"^\s*-\s", line):
            flush_para()
            flush_code()
            para.append(line.strip())
            bullet_indent = indent + 2
        elif bullet_indent is not None and indent == bullet_indent:
            para.append(line.strip())
        elif indent >= 2:
            flush_para()
            bullet_indent = None
            code.append(line.strip())
        else:
            flush_code()
            bullet_indent = None
            para.append(line.strip())
    flush_para()
    flush_code()
    return out


def parse(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    intro, sections, enums, macros = [], [], [], []
    i, comment, comment_end = 0, None, -2
    section = None
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("/*"):
            start = i
            while "*/" not in lines[i]:
                i += 1
            block = lines[start:i + 1]
            title = re.match(r"^/\* -{10,} (.*?) \*/$", stripped)
            if title:
                section = {"title": title.group(1), "items": []}
                sections.append(section)
                comment = None
            elif not intro and start < 5:
                intro = uncomment(block)
            else:
                comment, comment_end = uncomment(block), i
            i += 1
            continue
        m = re.match(r"^#define (RILL_[A-Z0-9_]+) (.+)$", stripped)
        if m and not m.group(1).startswith("RILL_API") and m.group(1) != "RILL_H":
            doc = comment if comment_end == i - 1 else None
            macros.append((m.group(1), m.group(2).strip(), doc))
        if stripped.startswith("typedef enum") or stripped == "enum {":
            start = i
            while not lines[i].strip().startswith("}"):
                i += 1
            name = re.match(r"^}\s*(\w*)", lines[i].strip()).group(1) or "status codes"
            values = []
            body = lines[start + 1:i]
            k = 0
            while k < len(body):
                e = body[k]
                # a comment that goes on over the next lines: joined up to its "*/"
                while "/*" in e and "*/" not in e[e.index("/*"):] and k + 1 < len(body):
                    k += 1
                    e += " " + re.sub(r"^\s*\*?\s*", "", body[k])
                k += 1
                em = re.match(r"^\s*(RILL_[A-Z0-9_]+)\s*=\s*(-?\d+),?\s*(?:/\*\s*(.*?)\s*\*/)?", e)
                if em:
                    if "/*" in e and not em.group(3):
                        sys.exit("gen-api-md: no description parsed for %s" % em.group(1))
                    values.append((em.group(1), em.group(2), em.group(3) or ""))
                elif re.match(r"^\s*/\*\s*(.*?)\s*\*/\s*$", e):
                    values.append((None, None, re.match(r"^\s*/\*\s*(.*?)\s*\*/", e).group(1)))
            enums.append((name, values))
        if stripped.startswith("RILL_API"):
            start = i
            while not lines[i].rstrip().endswith(";"):
                i += 1
            decl = " ".join(l.strip() for l in lines[start:i + 1])
            decl = re.sub(r"^RILL_API\s+", "", decl)
            decl = re.sub(r"\(\s+", "(", re.sub(r"\s+", " ", decl))
            name = re.search(r"(\w+)\s*\(", decl).group(1)
            doc = comment if comment_end == start - 1 else None
            grouped = doc is None and section and section["items"] and \
                section["items"][-1]["end"] == start - 1
            item = {"name": name, "decl": decl, "doc": doc, "end": i, "grouped": grouped}
            if grouped:
                section["items"][-1]["decls"].append(decl)
                section["items"][-1]["names"].append(name)
                section["items"][-1]["end"] = i
            else:
                item["decls"], item["names"] = [decl], [name]
                section["items"].append(item)
        i += 1
    return intro, sections, enums, macros


def problems(sections):
    found = []
    for section in sections:
        for item in section["items"]:
            if not item["doc"]:
                found.append("%s has no comment" % item["name"])
                continue
            text = " ".join(item["doc"])
            returns_int = any(re.match(r"^int\b", d) for d in item["decls"])
            if returns_int and not re.search(r"RILL_(OK|E[A-Z]+)|Returns as|As rill_", text):
                found.append("%s: the comment names no status" % item["name"])
    return found


def render(intro, sections, enums, macros):
    out = ["# rill API reference", "",
           "Generated from `include/rill.h` by `scripts/gen-api-md.py` (the header is the source;",
           "regenerate after changing it). Guides: `docs/guide.md` (getting started), `docs/abi.md`",
           "(compatibility), `docs/ffi.md` (bindings), `docs/format.md` (model files).", ""]
    out += ["## Conventions", ""] + as_markdown(intro[2:] if len(intro) > 2 else intro)
    out += ["## Functions", ""]
    for section in sections:
        names = [n for item in section["items"] for n in item["names"]]
        if names:
            out.append("- %s: %s" % (section["title"], ", ".join(
                "[`%s`](#%s)" % (n, n) for n in names)))
    out.append("")
    out += ["## Constants", ""]
    for name, values in enums:
        out += ["### %s" % ("`%s`" % name if name != "status codes" else "Status codes"), "",
                "| name | value | meaning |", "|---|---|---|"]
        for n, v, doc in values:
            if n is None:
                out.append("| | | *%s* |" % doc)
            else:
                out.append("| `%s` | %s | %s |" % (n, v, doc.replace("|", "\\|")))
        out.append("")
    out += ["### Macros", "", "| name | value | meaning |", "|---|---|---|"]
    for n, v, doc in macros:
        out.append("| `%s` | `%s` | %s |" % (n, v, " ".join(doc) if doc else ""))
    out.append("")
    for section in sections:
        if not section["items"]:
            continue
        out += ["## %s" % section["title"][0].upper() + section["title"][1:], ""]
        for item in section["items"]:
            for n in item["names"]:
                out.append('<a id="%s"></a>' % n)
            out += ["", "### " + ", ".join("`%s`" % n for n in item["names"]), "", "```c"]
            out += item["decls"]
            out += ["```", ""]
            out += as_markdown(item["doc"] or [])
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def main():
    intro, sections, enums, macros = parse(HEADER)
    text = render(intro, sections, enums, macros)
    found = problems(sections)
    if "--check" in sys.argv[1:]:
        current = open(OUTPUT, encoding="utf-8").read() if os.path.exists(OUTPUT) else ""
        if current != text:
            found.append("docs/api.md is out of date: run python3 scripts/gen-api-md.py")
        for p in found:
            print("FAIL: " + p)
        if not found:
            n = sum(len(item["names"]) for s in sections for item in s["items"])
            print("ok: %d functions documented; docs/api.md is current" % n)
        return 1 if found else 0
    with open(OUTPUT, "w", encoding="utf-8") as f:
        f.write(text)
    for p in found:
        print("warning: " + p)
    print("wrote docs/api.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
