#!/usr/bin/env python3
"""Structure check: import circles between files, storage layering, SQL
placement and file sizes, read from the Rust sources without compiling them.

    python3 scripts/structure.py [--root DIR] [--graph] [--quiet] [--verbose]

An arrow A -> B means file A names an item that file B defines, in a `use`
or in a path in code. Names are resolved the way rustc does (module files,
`#[path]`, re-exports, globs) as far as a reader without macro expansion can.
A module file that only declares modules and re-exports is transparent: names
reached through it resolve to the defining child and its own `use` lines draw
no arrow. A file that defines items and re-exports is a file like any other:
a name it re-exports (`pub use`, `pub(crate) use`, `pub use x::*`) stops at
it, and its re-export is an arrow to where the name comes from. A private
`use` is followed to the definer. `#[cfg(test)]` items, `tests/`, `benches/`
and `examples/` are out of scope. Exit 1 with every violation listed, 0 when
all four checks pass.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections import defaultdict

# (crate name, root files). A crate with a lib and a bin names its lib by the
# crate name from the bin (`use server::cli` in main.rs).
CRATES = (
    ("imgflush", ("src/lib.rs",)),
    ("app", ("app/src/lib.rs",)),
    ("edge", ("edge/src/lib.rs",)),
    ("server", ("server/src/lib.rs", "server/src/main.rs")),
)
PRODUCTION_DIRS = ("src", "app/src", "edge/src", "server/src")
NOT_PRODUCTION = frozenset(("tests", "benches", "examples"))
STORAGE = "src/backend/store/"
# Where storage may point: itself, the entities and the pure domain.
STORAGE_MAY_USE = ("src/backend/store/", "src/backend/model/", "src/domain/")
MAX_CODE_LINES = 300
# Exact path -> why SQL may live there. Empty: SQL belongs to storage.
SQL_ALLOWED: dict[str, str] = {}

# ---------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<lc>//[^\n]*)
  | (?P<bc>/\*)
  | (?P<raw>(?:br|cr|r)\#*")
  | (?P<str>[bc]?"(?:[^"\\]|\\.)*")
  | (?P<rid>r\#[A-Za-z_]\w*)
  | (?P<chr>b?'(?:[^'\\\n]|\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F_]{1,8}\}|.))')
  | (?P<life>'[A-Za-z_]\w*)
  | (?P<id>[A-Za-z_]\w*)
  | (?P<num>\d\w*)
  | (?P<p>::|[^\s\w]|\w)
    """,
    re.X | re.S,
)
_OPEN = {"(": ")", "[": "]", "{": "}"}


class Tok:
    """k: id, p (punctuation), s (string; t is its content), c, l, n."""

    __slots__ = ("k", "t", "line", "end")

    def __init__(self, k: str, t: str, line: int, end: int):
        self.k, self.t, self.line, self.end = k, t, line, end

    def __repr__(self) -> str:  # for debugging
        return f"{self.k}:{self.t!r}@{self.line}"


def _block_comment_end(text: str, pos: int) -> int:
    depth, i, n = 0, pos, len(text)
    while i < n:
        if text.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif text.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def tokenize(text: str) -> list[Tok]:
    """Tokens without comments; string literals keep their content apart, so
    nothing inside a string or a comment reads as a path."""
    toks: list[Tok] = []
    pos, line, n = 0, 1, len(text)
    match = _TOKEN.match
    while pos < n:
        m = match(text, pos)
        kind = m.lastgroup
        end = m.end()
        if kind == "bc":
            end = _block_comment_end(text, pos)
        elif kind == "raw":
            close = '"' + "#" * m.group().count("#")
            j = text.find(close, end)
            value = text[end : j if j >= 0 else n]
            end = j + len(close) if j >= 0 else n
        nl = text.count("\n", pos, end)
        if kind == "id" or kind == "p" or kind == "num":
            toks.append(Tok("n" if kind == "num" else kind, m.group(), line, line + nl))
        elif kind == "str":
            s = m.group()
            toks.append(Tok("s", s[s.index('"') + 1 : -1], line, line + nl))
        elif kind == "raw":
            toks.append(Tok("s", value, line, line + nl))
        elif kind == "rid":
            toks.append(Tok("id", m.group()[2:], line, line))
        elif kind == "chr":
            toks.append(Tok("c", m.group(), line, line))
        elif kind == "life":
            toks.append(Tok("l", m.group(), line, line))
        line += nl
        pos = end
    toks.append(Tok("eof", "", line, line))
    return toks


def pair_brackets(toks: list[Tok]) -> dict[int, int]:
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for i, t in enumerate(toks):
        if t.k != "p":
            continue
        if t.t in _OPEN:
            stack.append(i)
        elif t.t in (")", "]", "}") and stack:
            pairs[stack.pop()] = i
    return pairs


# ---------------------------------------------------------------- model


class Module:
    def __init__(self, crate: str, name: str, file: str, parent: Module | None, dir_: str):
        self.crate, self.name, self.file, self.parent, self.dir = crate, name, file, parent, dir_
        self.root: Module = parent.root if parent else self
        self.self_crate: Module | None = None  # main.rs: the crate's lib, by the crate name
        self.defs: dict[str, list[Def]] = defaultdict(list)
        self.imports: dict[str, list[Use]] = defaultdict(list)
        self.globs: list[Use] = []
        self.local: dict[str, list[Use]] = defaultdict(list)  # `use` inside bodies
        self.local_globs: list[Use] = []
        self.used: set[str] = set()  # identifiers a glob import may have brought in

    def path(self) -> str:
        parts = []
        m: Module | None = self
        while m and m.parent:
            parts.append(m.name)
            m = m.parent
        return "::".join([self.crate, *reversed(parts)])

    def is_within(self, other: Module) -> bool:
        """self is `other` or one of its descendants (it sees other's private names)."""
        m: Module | None = self
        while m is not None:
            if m is other:
                return True
            m = m.parent
        return False

    def __repr__(self) -> str:
        return f"<mod {self.path()}>"


class Def:
    __slots__ = ("name", "kind", "file", "pub", "module")

    def __init__(self, name: str, kind: str, file: str, pub: bool, module: Module | None = None):
        self.name, self.kind, self.file, self.pub, self.module = name, kind, file, pub, module

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name} in {self.file}>"


class Use:
    __slots__ = ("segs", "alias", "glob", "pub", "module", "file", "line", "body")

    def __init__(self, segs, alias, glob, pub, module, file, line, body):
        self.segs, self.alias, self.glob, self.pub = segs, alias, glob, pub
        self.module, self.file, self.line, self.body = module, file, line, body


class External:
    """A name from outside the crate (std, another crate) or a generic."""


EXTERNAL = External()


class FileInfo:
    def __init__(self, path: str, text: str):
        self.path = path
        self.text = text
        self.toks = tokenize(text)
        self.pairs = pair_brackets(self.toks)
        self.transparent = True
        self.test_spans: list[tuple[int, int]] = []  # token ranges under #[cfg(test)]
        self.code: list[tuple[Module, int, int]] = []  # token ranges read for paths
        self.uses: list[Use] = []
        self.crate = ""


# ---------------------------------------------------------------- parsing

_ITEM_KW = {"fn", "struct", "enum", "trait", "type", "const", "static"}
_QUALIFIERS = {"async", "unsafe", "default", "auto", "safe"}


def _cfg_is_test(toks: list[Tok], a: int, b: int) -> bool:
    """The attribute tokens [a, b) are `cfg(test)` or `cfg(all(.., test, ..))`."""
    words = "".join(t.t if t.k != "s" else '"' for t in toks[a:b])
    if not words.startswith("cfg("):
        return False
    inner = words[4:-1]
    if inner == "test":
        return True
    if inner.startswith("all(") and inner.endswith(")"):
        depth, part, parts = 0, "", []
        for ch in inner[4:-1]:
            if ch == "," and depth == 0:
                parts.append(part)
                part = ""
                continue
            depth += ch == "("
            depth -= ch == ")"
            part += ch
        parts.append(part)
        return "test" in parts
    return False


def _pascal(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in name.split("_") if p)


class Parser:
    def __init__(self, root: str):
        self.root = root
        self.files: dict[str, FileInfo] = {}
        self.test_files: set[str] = set()
        self.missing: list[str] = []

    def load(self, rel: str) -> FileInfo | None:
        if rel in self.files:
            return self.files[rel]
        full = os.path.join(self.root, rel)
        if not os.path.isfile(full):
            return None
        with open(full, encoding="utf-8", errors="replace") as f:
            info = FileInfo(rel, f.read())
        self.files[rel] = info
        return info

    def parse_crate(self, crate: str, root_file: str) -> Module | None:
        info = self.load(root_file)
        if info is None:
            return None
        mod = Module(crate, crate, root_file, None, os.path.dirname(root_file))
        info.crate = crate
        info.transparent = not self.items(info, 0, len(info.toks) - 1, mod, top=True)
        return mod

    def parse_module_file(self, rel: str, mod: Module) -> None:
        info = self.load(rel)
        if info is None:
            self.missing.append(f"{rel} (declared as {mod.path()})")
            return
        info.crate = mod.crate
        info.transparent = not self.items(info, 0, len(info.toks) - 1, mod, top=True)

    def items(self, info: FileInfo, i: int, end: int, mod: Module, top: bool) -> bool:
        """Reads the items of `mod` in tokens [i, end). True when they define
        or run anything besides `mod` and `use` (the file is not transparent)."""
        toks, pairs = info.toks, info.pairs
        defines = False
        while i < end:
            start = i
            attrs: list[tuple[int, int]] = []
            while toks[i].t == "#" and i < end:
                j = i + 1
                inner = toks[j].t == "!"
                if inner:
                    j += 1
                if toks[j].t != "[" or j not in pairs:
                    break
                if not inner:
                    attrs.append((j + 1, pairs[j]))
                elif top and _cfg_is_test(toks, j + 1, pairs[j]):  # #![cfg(test)]: a test file
                    info.test_spans.append((0, len(toks) - 1))
                    self.test_files.add(info.path)
                    return False
                i = pairs[j] + 1
            if i >= end:
                break
            if any(_cfg_is_test(toks, a, b) for a, b in attrs):
                j = self.skip_item(info, i, end)
                info.test_spans.append((start, j))
                if toks[i].t == "mod" or (toks[i].t == "pub" and any(t.t == "mod" for t in toks[i:j][:6])):
                    self.note_test_module(info, i, j, mod, attrs)
                i = j
                continue
            pub = False
            if toks[i].t == "pub":
                pub = True
                i += 1
                if toks[i].t == "(" and i in pairs:
                    i = pairs[i] + 1
            while toks[i].t in _QUALIFIERS and toks[i + 1].k == "id":
                i += 1
            if toks[i].t == "const" and toks[i + 1].t in ("fn", "unsafe", "async", "extern"):
                i += 1
                while toks[i].t in _QUALIFIERS:
                    i += 1
            if toks[i].t == "extern" and toks[i + 1].k == "s":
                i += 2
            kw = toks[i].t
            if toks[i].k == "p" and kw == ";":
                i += 1
                continue
            if kw == "use" and toks[i + 1].t != "<":
                i = self.use_decl(info, i, mod, pub, body=False)
                continue
            if kw == "extern" and toks[i + 1].t == "crate":
                i = self.skip_item(info, i, end)
                continue
            if kw == "mod" and toks[i + 1].k == "id":
                name = toks[i + 1].t
                if toks[i + 2].t == ";":
                    child = self.declared_module(info, mod, name, attrs, top)
                    mod.defs[name].append(Def(name, "mod", info.path, pub, child))
                    i += 3
                    continue
                if toks[i + 2].t == "{" and (i + 2) in pairs:
                    close = pairs[i + 2]
                    child = Module(mod.crate, name, info.path, mod, os.path.join(mod.dir, name))
                    mod.defs[name].append(Def(name, "mod", info.path, pub, child))
                    if self.items(info, i + 3, close, child, top=False):
                        defines = True
                    i = close + 1
                    continue
            j = self.skip_item(info, i, end)
            defines = True
            info.code.append((mod, start, j))
            self.body_uses(info, start, j, mod)
            name = None
            nt = toks[i + 1]
            if kw in _ITEM_KW and nt.k == "id":
                name = nt.t
                if kw == "static" and name == "mut":
                    name = toks[i + 2].t
                if name == "_":
                    name = None
            elif kw == "union" and nt.k == "id" and toks[i + 2].t in ("{", "<"):
                name = nt.t
            elif kw == "macro_rules" and nt.t == "!":
                name = toks[i + 2].t
                kw = "macro"
            if name:
                mod.defs[name].append(Def(name, kw, info.path, pub))
                if kw == "fn":
                    for extra in self.generated_names(toks, attrs, name):
                        mod.defs[extra].append(Def(extra, "fn-generated", info.path, pub))
            i = j
        return defines

    @staticmethod
    def generated_names(toks: list[Tok], attrs: list[tuple[int, int]], fn: str) -> list[str]:
        """Types a Leptos attribute macro adds beside a function: `#[server]`
        makes `SubmitThing` of `submit_thing`, `#[component]` makes `FooProps`."""
        out = []
        for a, b in attrs:
            words = [t.t for t in toks[a:b]]
            if words[:1] == ["server"] or (len(words) > 1 and words[-2:] == ["::", "server"]):
                named = None
                if len(words) > 2 and words[1] == "(" and toks[a + 2].k == "id" and words[3:4] in ([","], [")"]):
                    named = words[2]  # #[server(Name, "/api")]
                for k in range(len(words) - 2):
                    if words[k] in ("name", "struct_name") and words[k + 1] == "=":
                        named = words[k + 2]
                out.append(named or _pascal(fn))
            elif words[-1:] == ["component"]:
                out.append(fn + "Props")
        return out

    def skip_item(self, info: FileInfo, i: int, end: int) -> int:
        """Index after the item starting at i: after its `;`, or after the
        block of its first top-level `{`."""
        toks, pairs = info.toks, info.pairs
        j = i
        while j < end:
            t = toks[j]
            if t.k == "p":
                if t.t == ";":
                    return j + 1
                if t.t in _OPEN and j in pairs:
                    if t.t == "{":
                        return pairs[j] + 1
                    j = pairs[j] + 1
                    continue
            j += 1
        return end

    def module_file(self, info: FileInfo, mod: Module, name: str, attrs, top: bool) -> str | None:
        """The file of `mod name;` declared in `mod` (file info.path)."""
        toks = info.toks
        for a, b in attrs:
            if toks[a].t == "path" and toks[a + 1].t == "=" and toks[a + 2].k == "s":
                base = os.path.dirname(info.path) if top else mod.dir
                return os.path.normpath(os.path.join(base, toks[a + 2].t)).replace(os.sep, "/")
        for cand in (f"{mod.dir}/{name}.rs", f"{mod.dir}/{name}/mod.rs"):
            cand = os.path.normpath(cand).replace(os.sep, "/")
            if os.path.isfile(os.path.join(self.root, cand)):
                return cand
        return None

    def declared_module(self, info: FileInfo, mod: Module, name: str, attrs, top: bool) -> Module:
        rel = self.module_file(info, mod, name, attrs, top)
        if rel is None:
            child = Module(mod.crate, name, f"{mod.dir}/{name}.rs", mod, f"{mod.dir}/{name}")
            self.missing.append(f"{mod.dir}/{name}.rs (declared as {child.path()} in {info.path})")
            return child
        base = os.path.basename(rel)
        plain = base != "mod.rs" and not any(toks_is_path(info.toks, a) for a, _ in attrs)
        child_dir = rel[:-3] if plain else os.path.dirname(rel)
        child = Module(mod.crate, name, rel, mod, child_dir)
        self.parse_module_file(rel, child)
        return child

    def note_test_module(self, info: FileInfo, i: int, j: int, mod: Module, attrs) -> None:
        toks = info.toks
        k = i
        while k < j and toks[k].t != "mod":
            k += 1
        if k + 2 < len(toks) and toks[k + 1].k == "id" and toks[k + 2].t == ";":
            rel = self.module_file(info, mod, toks[k + 1].t, attrs, True)
            if rel:
                self.test_files.add(rel)

    # -- use trees

    def use_decl(self, info: FileInfo, i: int, mod: Module, pub: bool, body: bool) -> int:
        toks = info.toks
        line = toks[i].line
        out: list[tuple[tuple[str, ...], str | None, bool]] = []
        j = self.use_tree(toks, i + 1, (), out)
        while toks[j].t != ";" and toks[j].k != "eof":
            j += 1
        for segs, alias, glob in out:
            u = Use(segs, alias, glob, pub, mod, info.path, line, body)
            info.uses.append(u)
            if body and glob:
                mod.local_globs.append(u)
            elif body and alias:
                mod.local[alias].append(u)
            elif glob:
                mod.globs.append(u)
            elif alias:
                mod.imports[alias].append(u)
        return j + 1

    def use_tree(self, toks: list[Tok], i: int, prefix: tuple[str, ...], out) -> int:
        segs = list(prefix)
        if toks[i].t == "::":
            if not segs:
                segs.append("::")
            i += 1
        while True:
            t = toks[i]
            if t.t == "$" and toks[i + 1].t == "crate":
                i += 1
                continue
            if t.t == "{":
                i += 1
                while toks[i].t != "}" and toks[i].k != "eof":
                    before = i
                    i = self.use_tree(toks, i, tuple(segs), out)
                    if toks[i].t == ",":
                        i += 1
                    elif i == before:
                        i += 1
                return i + 1
            if t.t == "*":
                out.append((tuple(segs), None, True))
                return i + 1
            if t.k != "id":
                return i
            segs.append(t.t)
            i += 1
            if toks[i].t == "::":
                i += 1
                continue
            alias = segs[-1]
            if segs[-1] == "self":
                segs.pop()
                alias = segs[-1] if segs else None
            if toks[i].t == "as":
                alias = toks[i + 1].t
                i += 2
            if segs:
                out.append((tuple(segs), None if alias == "_" else alias, False))
            return i

    def body_uses(self, info: FileInfo, a: int, b: int, mod: Module) -> None:
        toks = info.toks
        for k in range(a, b):
            if toks[k].t == "use" and toks[k].k == "id" and toks[k + 1].t != "<" and toks[k - 1].t != "::":
                self.use_decl(info, k, mod, False, body=True)


def toks_is_path(toks: list[Tok], a: int) -> bool:
    return toks[a].t == "path" and toks[a + 1].t == "="


# ---------------------------------------------------------------- names


class Resolver:
    def __init__(self) -> None:
        self.memo: dict = {}
        self.busy: set = set()
        self.cuts = 0
        self.transparent: set[str] = set()
        self.reexports: dict[tuple[str, str], Def] = {}

    def lookup(self, m: Module, name: str, want_mod: bool, sees_private: bool, local: bool = False):
        """What `name` means in module m's namespace: a Module, a Def, or None."""
        key = (id(m), name, want_mod, sees_private, local)
        if key in self.memo:
            return self.memo[key]
        if key in self.busy:
            self.cuts += 1
            return None
        self.busy.add(key)
        cuts = self.cuts
        try:
            found = self._lookup(m, name, want_mod, sees_private, local)
        finally:
            self.busy.discard(key)
        if cuts == self.cuts or found is not None:
            self.memo[key] = found
        return found

    @staticmethod
    def _pick(cands: list, want_mod: bool):
        if not cands:
            return None
        mods = [c for c in cands if isinstance(c, Module)]
        items = [c for c in cands if not isinstance(c, Module)]
        first, second = (mods, items) if want_mod else (items, mods)
        return (first or second)[0]

    def _lookup(self, m: Module, name: str, want_mod: bool, sees_private: bool, local: bool):
        cands = [d.module if d.kind == "mod" else d for d in m.defs.get(name, ()) if sees_private or d.pub]
        found = self._pick([c for c in cands if c is not None], want_mod)
        if found is not None:
            return found
        uses = [u for u in m.imports.get(name, ()) if sees_private or u.pub]
        if local:
            uses += m.local.get(name, [])
        cands = []
        for u in uses:
            t, _ = self.resolve(u.segs, u.module, want_mod)
            if t is not None:
                cands.append(self.land(m, name, t) if u.pub else t)
        found = self._pick(cands, want_mod)
        if found is not None:
            return found
        globs = [g for g in m.globs if sees_private or g.pub] + (m.local_globs if local else [])
        for g in globs:
            q, _ = self.resolve(g.segs, g.module, True)
            if isinstance(q, Module):
                t = self.lookup(q, name, want_mod, m.is_within(q))
                if t is not None:
                    return self.land(m, name, t) if g.pub else t
        return None

    def land(self, m: Module, name: str, target):
        """A name re-exported by a file that also defines items stops at that
        file; only a transparent file (mods and uses only) is seen through."""
        if isinstance(target, Module) or m.file in self.transparent:
            return target
        key = (m.file, name)
        if key not in self.reexports:
            self.reexports[key] = Def(name, "re-export", m.file, True)
        return self.reexports[key]

    def resolve(self, segs: tuple[str, ...], ctx: Module, want_mod: bool, local: bool = False):
        """(target, index of the segment that named it). target is a Module, a
        Def, EXTERNAL, or None when a crate-internal path does not resolve."""
        first = segs[0]
        if first == "::":
            return EXTERNAL, 0
        k = 1
        if first == "crate":
            m = ctx.root
        elif first == "self":
            m = ctx
        elif first == "super":
            m = ctx.parent
        else:
            t = self.lookup(ctx, first, want_mod or len(segs) > 1, True, local)
            if t is None:
                if ctx.root.self_crate is not None and first == ctx.crate:
                    t = ctx.root.self_crate
                else:
                    return EXTERNAL, 0
            if not isinstance(t, Module):
                return t, 0
            m = t
        while k < len(segs):
            if m is None:
                return None, k
            s = segs[k]
            if s == "super":
                m = m.parent
            elif s != "self":
                last = k == len(segs) - 1
                t = self.lookup(m, s, want_mod or not last, ctx.is_within(m))
                if t is None:
                    return ("unresolved", m, s), k
                if not isinstance(t, Module):
                    return t, k
                m = t
            k += 1
        return m, len(segs) - 1

    def names(self, m: Module, sees_private: bool, seen=None) -> set[str]:
        """Every name module m offers to a glob import."""
        seen = seen if seen is not None else set()
        if id(m) in seen:
            return set()
        seen.add(id(m))
        out = {n for n, ds in m.defs.items() if any(sees_private or d.pub for d in ds)}
        out |= {n for n, us in m.imports.items() if any(sees_private or u.pub for u in us)}
        for g in m.globs:
            if sees_private or g.pub:
                q, _ = self.resolve(g.segs, g.module, True)
                if isinstance(q, Module):
                    out |= self.names(q, m.is_within(q), seen)
        return out


# ---------------------------------------------------------------- the graph


# An identifier after these is not a name taken from elsewhere.
_NOT_A_USE = frozenset(("::", ".", "fn", "struct", "enum", "union", "trait", "type", "const", "static", "mod", "let"))


class Graph:
    def __init__(self, root: str):
        self.root = root
        self.parser = Parser(root)
        self.res = Resolver()
        self.crates: list[Module] = []
        self.arrows: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.unresolved: list[str] = []

    def build(self) -> None:
        for crate, roots in CRATES:
            lib = None
            for rf in roots:
                mod = self.parser.parse_crate(crate, rf)
                if mod is None:
                    continue
                if rf.endswith("lib.rs"):
                    lib = mod
                elif lib is not None:
                    mod.self_crate = lib
                self.crates.append(mod)
        self.res.transparent = {p for p, i in self.parser.files.items() if i.transparent}
        for info in list(self.parser.files.values()):
            self.read_paths(info)
        for info in list(self.parser.files.values()):
            self.read_uses(info)

    def arrow(self, src: str, target, name: str) -> None:
        if isinstance(target, tuple) and target[0] == "unresolved":
            _, m, missing = target
            info = self.parser.files.get(m.file)
            if info is not None and not info.transparent:
                # Not found by name: made by a macro the module runs, most likely.
                if m.file != src:
                    self.arrows[(src, m.file)].add(name)
            else:
                self.unresolved.append(f"{src}: {name} (no `{missing}` in {m.path()})")
            return
        if isinstance(target, Def) and target.file != src:
            self.arrows[(src, target.file)].add(name)

    def read_paths(self, info: FileInfo) -> None:
        """Paths in code: `crate::a::f()`, `super::X`, `store::Target` after
        `use crate::backend::store`, and identifiers a glob may have brought."""
        if info.transparent:
            return
        toks, res = info.toks, self.res
        for mod, a, b in info.code:
            k = a
            while k < b:
                t = toks[k]
                if t.k != "id":
                    k += 1
                    continue
                if t.t == "use" and toks[k + 1].t != "<" and toks[k - 1].t != "::":
                    while k < b and toks[k].t != ";":
                        k += 1
                    continue
                prev = toks[k - 1].t if k else ""
                if toks[k + 1].t == "::" and prev not in ("::", "."):
                    segs = [t.t]
                    j = k + 1
                    while toks[j].t == "::" and toks[j + 1].k == "id":
                        segs.append(toks[j + 1].t)
                        j += 2
                    if toks[j].t == "!":
                        segs.pop()  # a macro: not followed
                    k = j
                    if len(segs) < 2 or segs[0] == "Self":
                        if len(segs) == 1:
                            mod.used.add(segs[0])
                        continue
                    head, _ = res.resolve((segs[0],), mod, True, local=True)
                    if segs[0] in ("crate", "self", "super") or isinstance(head, Module) or (
                        head is EXTERNAL and mod.root.self_crate is not None and segs[0] == mod.crate
                    ):
                        target, at = res.resolve(tuple(segs), mod, False, local=True)
                        self.arrow(info.path, target, segs[at])
                    else:
                        mod.used.add(segs[0])
                    continue
                if prev not in _NOT_A_USE and (t.t[:1].isupper() or toks[k + 1].t in ("(", "!")):
                    mod.used.add(t.t)
                k += 1

    def read_uses(self, info: FileInfo) -> None:
        if info.transparent:
            return
        res = self.res
        for u in info.uses:
            if not u.glob:
                target, at = res.resolve(u.segs, u.module, False)
                if target is not None and not isinstance(target, (Module, External)):
                    self.arrow(info.path, target, u.segs[at])
                continue
            q, at = res.resolve(u.segs, u.module, True)
            if isinstance(q, Def):
                self.arrow(info.path, q, u.segs[at])
                continue
            if not isinstance(q, Module):
                continue
            sees = u.module.is_within(q)
            if u.pub:
                names = res.names(q, sees)
            else:
                m = u.module
                names = {n for n in m.used if n not in m.defs and n not in m.imports and n not in m.local}
            for n in sorted(names):
                t = res.lookup(q, n, False, sees)
                if isinstance(t, Def):
                    self.arrow(info.path, t, n)


# ---------------------------------------------------------------- checks


def strongly_connected(nodes: list[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(edges.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(edges.get(w, ()))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return sorted(out)


def _names(names: set[str], limit: int = 8) -> str:
    ordered = sorted(names)
    if len(ordered) > limit:
        return ", ".join(ordered[:limit]) + f", +{len(ordered) - limit} more"
    return ", ".join(ordered)


def check_circles(g: Graph) -> list[str]:
    edges: dict[str, list[str]] = defaultdict(list)
    for (a, b) in sorted(g.arrows):
        edges[a].append(b)
    crate_of = {p: i.crate for p, i in g.parser.files.items()}
    out = []
    for comp in strongly_connected(sorted(edges), edges):
        inside = set(comp)
        out.append(f"{crate_of.get(comp[0], '?')}: {len(comp)} files in a circle: " + ", ".join(comp))
        for a in comp:
            for b in sorted(edges[a]):
                if b in inside:
                    out.append(f"    {a} -> {b}: {_names(g.arrows[(a, b)])}")
        pairs = [(a, b) for a in comp for b in edges[a] if a < b and a in edges.get(b, ())]
        if pairs and len(comp) > 2:
            out.append("    of which two-file circles:")
            out += [f"      {a} <-> {b}" for a, b in sorted(pairs)]
    return out


def check_storage(g: Graph) -> list[str]:
    out = []
    for (a, b), names in sorted(g.arrows.items()):
        if a.startswith(STORAGE) and not b.startswith(STORAGE_MAY_USE):
            out.append(f"{a} -> {b}: {_names(names)}")
    return out


def production_files(g: Graph) -> list[str]:
    root = g.root
    found = set()
    for d in PRODUCTION_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, d)):
            rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
            dirnames[:] = [n for n in dirnames if n not in NOT_PRODUCTION and n not in ("target", "node_modules")]
            found.update(f"{rel_dir}/{f}" for f in filenames if f.endswith(".rs"))
    test_dirs = tuple(t[:-3] + "/" for t in g.parser.test_files if not t.endswith("/mod.rs")) + tuple(
        t[: -len("mod.rs")] for t in g.parser.test_files if t.endswith("/mod.rs")
    )
    return sorted(f for f in found if f not in g.parser.test_files and not f.startswith(test_dirs))


def file_info(g: Graph, rel: str) -> FileInfo | None:
    info = g.parser.files.get(rel)
    if info is None:  # not reached from a crate root: read it alone
        info = g.parser.load(rel)
        if info is None:
            return None
        g.parser.items(info, 0, len(info.toks) - 1, Module("?", "?", rel, None, rel[:-3]), top=True)
    return info


_SQL = re.compile(
    r"""^\s*(?P<kw>select|insert|update|delete|with)\b(?:
        (?<=select)\s+(?:.+?\s)?from\s+["\w(]
      | (?<=select)\s+(?:\d|\$\d|\?|\*|'|\w+\s*\()
      | (?<=insert)\s+into\s+["\w]
      | (?<=update)\s+["\w.]+\s+set\s
      | (?<=delete)\s+from\s+["\w]
      | (?<=with)\s+(?:recursive\s+)?["\w]+\s*(?:\([^)]*\)\s*)?as\s+(?:not\s+)?(?:materialized\s+)?\(
    )""",
    re.I | re.S | re.X,
)
_SQLX_FNS = {"query", "query_as", "query_scalar", "query_with", "query_as_with", "query_scalar_with"}


def sql_in(info: FileInfo) -> list[str]:
    toks = info.toks
    skip = sorted(info.test_spans)
    hits: list[str] = []
    imported: set[str] = set()
    for u in info.uses:
        if u.segs and u.segs[0] == "sqlx" and len(u.segs) == 2 and u.segs[1] in _SQLX_FNS:
            imported.add(u.alias or u.segs[1])
    si = 0
    k = 0
    n = len(toks) - 1
    while k < n:
        while si < len(skip) and skip[si][1] <= k:
            si += 1
        if si < len(skip) and skip[si][0] <= k:
            k = skip[si][1]
            continue
        t = toks[k]
        prev = toks[k - 1].t if k else ""
        if t.k == "s":
            m = _SQL.match(t.t)
            kw = m.group("kw") if m else ""
            if m and (kw.isupper() or kw.islower()) and not t.t.rstrip().endswith((".", "!", "?")):
                text = " ".join(t.t.replace("\\\n", " ").split())
                hits.append(f'{info.path}:{t.line}: SQL string "{text[:60]}"')
        elif t.k == "id" and prev != "::" and prev != ".":
            if t.t == "sqlx" and toks[k + 1].t == "::" and toks[k + 2].t in _SQLX_FNS:
                hits.append(f"{info.path}:{t.line}: sqlx::{toks[k + 2].t}")
                k += 3
                continue
            if t.t == "rusqlite" and toks[k + 1].t == "::":
                hits.append(f"{info.path}:{t.line}: rusqlite::{toks[k + 2].t}")
                k += 3
                continue
            if t.t in imported and toks[k + 1].t in ("(", "::", "!") and toks[k - 1].t != "use":
                hits.append(f"{info.path}:{t.line}: {t.t} (from sqlx)")
        k += 1
    return hits


def check_sql(g: Graph, files: list[str]) -> list[str]:
    out = []
    for rel in files:
        if rel.startswith(STORAGE) or rel in SQL_ALLOWED:
            continue
        info = file_info(g, rel)
        if info is not None:
            out += sql_in(info)
    return out


def code_lines(info: FileInfo) -> int:
    """Non-blank lines that are not only a comment, before the first line
    starting `#[cfg(test)]`."""
    lines = info.text.split("\n")
    stop = next((i + 1 for i, l in enumerate(lines) if l.startswith("#[cfg(test)]")), len(lines) + 1)
    seen: set[int] = set()
    for t in info.toks:
        if t.k == "eof" or t.line >= stop:
            break
        seen.add(t.line)
        for ln in range(t.line + 1, min(t.end, stop - 1) + 1):
            if lines[ln - 1].strip():
                seen.add(ln)
    return len(seen)


def check_sizes(g: Graph, files: list[str]) -> list[str]:
    out = []
    for rel in files:
        info = file_info(g, rel)
        if info is not None:
            n = code_lines(info)
            if n > MAX_CODE_LINES:
                out.append(f"{rel}: {n} lines of code (max {MAX_CODE_LINES})")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--graph", action="store_true", help="print every arrow: file -> file: names")
    ap.add_argument("--quiet", action="store_true", help="print only violations")
    ap.add_argument("--verbose", action="store_true", help="also list crate-internal names not resolved")
    args = ap.parse_args(argv)

    g = Graph(args.root)
    g.build()
    files = production_files(g)
    if args.graph:
        for (a, b), names in sorted(g.arrows.items()):
            print(f"{a} -> {b}: {', '.join(sorted(names))}")
    sections = (
        ("import circles between files", check_circles(g)),
        (f"storage ({STORAGE}) points only to {', '.join(STORAGE_MAY_USE[1:])} and itself", check_storage(g)),
        (f"SQL only under {STORAGE}", check_sql(g, files)),
        (f"production files at most {MAX_CODE_LINES} lines of code", check_sizes(g, files)),
    )
    notes = [f"module file not found: {m}" for m in g.parser.missing]
    if args.verbose:
        notes += [f"not resolved: {u}" for u in sorted(set(g.unresolved))]
    failed = [title for title, found in sections if found]
    for n, (title, found) in enumerate(sections, 1):
        if args.quiet and not found:
            continue
        count = sum(1 for line in found if not line.startswith(" "))
        print(f"{n}. {title}: {f'{count} violation(s)' if found else 'OK'}")
        for line in found:
            print(f"  {line}")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if not args.quiet or failed:
        print(f"structure: {len(g.parser.files)} files, {len(g.arrows)} arrows; "
              + ("all checks pass" if not failed else f"{len(failed)} of 4 checks failed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
