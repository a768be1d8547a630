"""The WIT parser: tokens -> `ast.File`, by recursive descent over WIT.md's grammar.

One method per production, named after it (`_world_item`, `_use_path`,
`_type`...), each consuming exactly its tokens.  An unexpected token stops the
parse with a `WitError` at that token: "expected `}`, found `fn`".  The features
of preview 3 (`async` functions, `future`, `stream`, `error-context`) are
recognised only to be refused with a message that says so; nested namespaces
(`a:b:c`, the spec's 🪺) likewise.  Fixed-length lists (`list<T, N>`, 🔧),
`map<K, V>` (🗺️), `@external-id` and `import name: path` (🏷️) are parsed and
kept, as wasm-tools does.  Attributes are read as wit-parser reads them: gates
and `@external-id` in any order before any item but a top-level `use`, even
where WIT.md's grammar has no `external-id` (a `use`, an `include`, a whole
interface or world); only the items that can carry an external id keep it.
"""

from __future__ import annotations

from dataclasses import dataclass

from aot.wit import ast
from aot.wit.lexer import Token, tokenize
from aot.wit.source import SourceFile, SourceMap
from aot.wit.version import Version

MAX_TYPE_NESTING = 100  # `list<list<...>>` deeper than this is refused rather than recursed into
PRIMITIVES = frozenset("bool u8 u16 u32 u64 s8 s16 s32 s64 f32 f64 char string".split())
_TYPEDEF_STARTS = frozenset(("type", "record", "variant", "enum", "flags", "resource"))
_PREVIEW3 = {
    "future": "`future` types are part of the component model's async ABI (WASI preview 3)",
    "stream": "`stream` types are part of the component model's async ABI (WASI preview 3)",
    "error-context": "`error-context` is part of the component model's async ABI (WASI preview 3)",
    "async": "`async` functions use the component model's async ABI (WASI preview 3)",
}


def parse_file(src: SourceFile, sources: SourceMap) -> ast.File:
    """Parse one WIT file already added to `sources`."""
    return _Parser(tokenize(src, sources), sources, src.path).file()


class _Parser:
    def __init__(self, tokens: list[Token], sources: SourceMap, path: str) -> None:
        self.tokens = tokens
        self.pos = 0
        self.sources = sources
        self.path = path
        self.depth = 0

    # --- token helpers ------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind != "eof":
            self.pos += 1
        return tok

    def eat(self, kind: str) -> Token | None:
        if self.tokens[self.pos].kind == kind:
            return self.next()
        return None

    def expect(self, kind: str, what: str | None = None) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind != kind:
            raise self.unexpected(what or _describe_kind(kind))
        return self.next()

    def unexpected(self, expected: str, tok: Token | None = None):
        tok = tok or self.tok
        if tok.kind in _PREVIEW3:
            return self.error(tok.span, f"{_PREVIEW3[tok.kind]}: not supported by Waft")
        return self.error(tok.span, f"expected {expected}, found {tok.describe()}")

    def error(self, span, message: str):
        return self.sources.error(span, message)

    def ident(self) -> ast.Id:
        tok = self.tok
        if tok.kind != "id":
            raise self.unexpected("an identifier")
        self.pos += 1
        return ast.Id(tok.value, tok.span)

    # --- file and packages --------------------------------------------------------------

    def file(self) -> ast.File:
        """wit-file ::= (package-decl ';')? (package-items | nested-package-definition)*"""
        package, package_docs = None, ""
        if self.tok.kind == "package":
            package_docs = _docs(self.tok)
            self.next()
            package = self.package_name()
            if self.tok.kind == "{":
                # The file opens with a nested package block and has no package of its own.
                f = ast.File(self.path, None, "")
                f.nested.append(self.package_block(package, package_docs))
                return self.rest_of_file(f)
            self.expect(";")
        return self.rest_of_file(ast.File(self.path, package, package_docs))

    def rest_of_file(self, f: ast.File) -> ast.File:
        while self.tok.kind != "eof":
            if self.tok.kind == "package":
                docs = _docs(self.next())
                name = self.package_name()
                if self.tok.kind != "{":
                    raise self.error(name.span, "a file declares its package once, at the top: "
                                     "later `package` declarations must be blocks, `package a:b { ... }`")
                f.nested.append(self.package_block(name, docs))
            else:
                f.items.append(self.package_item())
        return f

    def package_block(self, name: ast.PackageName, docs: str) -> ast.PackageBlock:
        """nested-package-definition ::= package-decl '{' package-items* '}'"""
        self.expect("{")
        items = []
        while not self.eat("}"):
            if self.tok.kind == "eof":
                raise self.unexpected("`}` closing the package block")
            items.append(self.package_item())
        return ast.PackageBlock(name, items, docs)

    def package_name(self) -> ast.PackageName:
        """package-decl ::= 'package' id ':' id ('@' valid-semver)?"""
        namespace = self.ident()
        self.expect(":")
        name = self.ident()
        if self.tok.kind == ":":
            raise self.error(self.tok.span, "nested namespaces (`a:b:c`, the spec's 🪺 feature) "
                             "are not supported: a package name is `namespace:name`")
        version = self.opt_version()
        end = self.tokens[self.pos - 1].end
        return ast.PackageName(namespace, name, version, (namespace.span[0], end))

    def opt_version(self) -> Version | None:
        if not self.eat("@"):
            return None
        return self.version()

    def version(self) -> Version:
        tok = self.tok
        if tok.kind != "number":
            raise self.unexpected("a version (MAJOR.MINOR.PATCH)")
        self.next()
        try:
            return Version.parse(tok.value)
        except ValueError as exc:
            raise self.error(tok.span, str(exc)) from None

    def package_item(self) -> ast.PackageItem:
        """package-items ::= toplevel-use-item | interface-item | world-item"""
        docs = _docs(self.tok)
        attrs = self.attributes()
        kind = self.tok.kind
        # An @external-id on an interface or world is accepted and dropped, as wit-parser does:
        # WIT.md gives it no meaning there.
        if kind == "interface":
            self.next()
            name = self.ident()
            return ast.Interface(name, self.interface_items(), docs, attrs.gate)
        if kind == "world":
            self.next()
            name = self.ident()
            return ast.World(name, self.world_items(), docs, attrs.gate)
        if kind == "use":
            if attrs.span is not None:
                # toplevel-use-item has no gate in WIT.md's grammar; wit-parser refuses one too.
                raise self.error(attrs.span, "a top-level `use` takes no attributes (no gates, no "
                                 "@external-id): gate the items that use what it names instead")
            self.next()
            path = self.use_path()
            alias = self.ident() if self.eat("as") else None
            self.expect(";")
            return ast.TopUse(path, alias)
        if kind == "package" and attrs.span is not None:
            raise self.error(attrs.span, "a nested `package ... { }` block takes no attributes: "
                             "put them on the interfaces and worlds inside it")
        raise self.unexpected("`world`, `interface` or `use`")

    # --- attributes ---------------------------------------------------------------------

    def attributes(self) -> _Attributes:
        """gate ::= gate-item*, with @external-id anywhere among the gate items.

        wit-parser reads one list of attributes, in any order and each gate at most once,
        before every item; the item then keeps what it can use (`external_id()`)."""
        if self.tok.kind != "@":
            return _NO_ATTRIBUTES
        first = self.tok.span
        gate_start = None
        since = unstable = deprecated = None
        external_ids: list[tuple[str, tuple[int, int]]] = []
        while self.tok.kind == "@":
            at = self.next()
            name = self.ident()
            span = (at.start, name.span[1])
            if name.name == "external-id":
                self.expect("(")
                external_ids.append((self.expect("literal", "a string literal").value, span))
                self.expect(")")
                continue
            if name.name not in ("since", "unstable", "deprecated"):
                raise self.error(name.span, f"unknown attribute `@{name.name}` (WIT has @since, @unstable, "
                                 "@deprecated and @external-id)")
            if {"since": since, "unstable": unstable, "deprecated": deprecated}[name.name] is not None:
                raise self.error(span, f"cannot specify @{name.name} twice")
            self.expect("(")
            gate_start = gate_start or span
            if name.name == "since":
                if unstable is not None:
                    raise self.error(span, "cannot specify both @since and @unstable")
                since = self.gate_version("version")
            elif name.name == "unstable":
                if since is not None:
                    raise self.error(span, "cannot specify both @since and @unstable")
                self.gate_key("feature")
                unstable = self.ident().name
            else:
                deprecated = self.gate_version("version")
            self.expect(")")
        if deprecated is not None and since is None and unstable is None:
            raise self.error(gate_start, "@deprecated needs a @since or @unstable gate beside it")
        gate = ast.Gate(since, unstable, deprecated, gate_start) if gate_start else ast.NO_GATE
        return _Attributes(gate, tuple(external_ids), first)

    def external_id(self, attrs: _Attributes) -> str | None:
        """The one @external-id of an item that keeps it (a function, type, `use`, import or
        export).  Interfaces, worlds and `include`s drop theirs unchecked, as wit-parser does."""
        if len(attrs.external_ids) > 1:
            raise self.error(attrs.external_ids[1][1], "cannot specify @external-id twice")
        return attrs.external_ids[0][0] if attrs.external_ids else None

    def gate_key(self, key: str) -> None:
        name = self.ident()
        if name.name != key:
            raise self.error(name.span, f"expected `{key}`, found `{name.name}`")
        self.expect("=")

    def gate_version(self, key: str) -> Version:
        self.gate_key(key)
        return self.version()

    # --- use paths ----------------------------------------------------------------------

    def use_path(self) -> ast.UsePath:
        """use-path ::= id | id ':' id '/' id ('@' valid-semver)?"""
        first = self.ident()
        if not self.eat(":"):
            return ast.UsePath(first)
        pkg = self.ident()
        if self.tok.kind == ":":
            raise self.error(self.tok.span, "nested namespaces (`a:b:c`, the spec's 🪺 feature) are not supported")
        self.expect("/", "`/` and an interface or world name")
        name = self.ident()
        if self.tok.kind == "/":
            raise self.error(self.tok.span, "nested packages (`a:b/c/d`, the spec's 🪺 feature) are not supported")
        version = self.opt_version()
        end = self.tokens[self.pos - 1].end
        return ast.UsePath(name, ast.PackageName(first, pkg, version, (first.span[0], end)))

    # --- interfaces ---------------------------------------------------------------------

    def interface_items(self) -> list[ast.InterfaceItem]:
        """'{' interface-items* '}'"""
        self.expect("{")
        items: list[ast.InterfaceItem] = []
        while not self.eat("}"):
            items.append(self.interface_item())
        return items

    def interface_item(self) -> ast.InterfaceItem:
        """interface-items ::= gate (use-item | external-id? typedef-item | external-id? func-item);
        wit-parser also takes an @external-id before a `use` (and keeps it)."""
        docs = _docs(self.tok)
        attrs = self.attributes()
        gate, ext = attrs.gate, self.external_id(attrs)
        kind = self.tok.kind
        if kind == "use":
            return self.use_item(gate, ext)
        if kind in _TYPEDEF_STARTS:
            return self.typedef(docs, gate, ext)
        if kind == "id":
            return self.func_item(docs, gate, ext)
        raise self.unexpected("`use`, a type definition or a function (`name: func(...)`)")

    def use_item(self, gate: ast.Gate, ext: str | None) -> ast.Use:
        """use-item ::= 'use' use-path '.' '{' use-names-list '}' ';'"""
        start = self.expect("use").start
        path = self.use_path()
        self.expect(".", "`.` and the names to use, `.{a, b}`")
        self.expect("{")
        names = []
        while True:
            name = self.ident()
            alias = self.ident() if self.eat("as") else None
            names.append(ast.UseName(name, alias))
            if self.eat(","):
                if self.eat("}"):
                    break
                continue
            self.expect("}", "`,` or `}`")
            break
        self.expect(";")
        return ast.Use(path, names, gate, (start, path.span[1]), ext)

    def func_item(self, docs: str, gate: ast.Gate, ext: str | None) -> ast.Func:
        """func-item ::= id ':' func-type ';'"""
        name = self.ident()
        self.expect(":")
        ftype = self.func_type()
        self.expect(";")
        return ast.Func(name, ftype, docs, gate, ext)

    def func_type(self) -> ast.FuncType:
        """func-type ::= 'async'? 'func' param-list result-list"""
        start = self.tok.start
        self.expect("func", "`func`")
        params = self.param_list()
        result = self.type() if self.eat("->") else None
        return ast.FuncType(params, result, (start, self.tokens[self.pos - 1].end))

    def param_list(self) -> list[ast.Param]:
        """param-list ::= '(' (named-type (',' named-type)* ','?)? ')'"""
        self.expect("(")
        params = []
        while not self.eat(")"):
            name = self.ident()
            self.expect(":")
            params.append(ast.Param(name, self.type()))
            if not self.eat(","):
                self.expect(")", "`,` or `)`")
                break
        return params

    # --- type definitions ---------------------------------------------------------------

    def typedef(self, docs: str, gate: ast.Gate, ext: str | None) -> ast.TypeDef:
        kw = self.next()
        name = self.ident()
        if kw.kind == "type":
            self.expect("=")
            body: ast.TypeBody = ast.AliasBody(self.type())
            self.expect(";")
        elif kw.kind == "record":
            body = ast.RecordBody(self.braced_list(self.record_field))
        elif kw.kind == "variant":
            body = ast.VariantBody(self.braced_list(self.variant_case))
        elif kw.kind == "enum":
            body = ast.EnumBody(self.braced_list(self.plain_case))
        elif kw.kind == "flags":
            body = ast.FlagsBody(self.braced_list(self.plain_case))
        else:
            body = ast.ResourceBody(self.resource_funcs())
        return ast.TypeDef(name, body, docs, gate, ext, kw.span)

    def braced_list(self, item):
        """'{' item (',' item)* ','? '}'; an empty list parses here and is refused by the resolver."""
        self.expect("{")
        items = []
        while not self.eat("}"):
            items.append(item())
            if not self.eat(","):
                self.expect("}", "`,` or `}`")
                break
        return items

    def record_field(self) -> ast.Field:
        docs = _docs(self.tok)
        name = self.ident()
        self.expect(":")
        return ast.Field(name, self.type(), docs)

    def variant_case(self) -> ast.Case:
        docs = _docs(self.tok)
        name = self.ident()
        payload = None
        if self.eat("("):
            payload = self.type()
            self.expect(")")
        return ast.Case(name, payload, docs)

    def plain_case(self) -> ast.Case:
        docs = _docs(self.tok)
        return ast.Case(self.ident(), None, docs)

    def resource_funcs(self) -> list[ast.ResourceFunc]:
        """resource-item ::= 'resource' id ';' | 'resource' id '{' (gate external-id? resource-method)* '}'"""
        if self.eat(";"):
            return []
        self.expect("{", "`;` or `{`")
        funcs = []
        while not self.eat("}"):
            docs = _docs(self.tok)
            attrs = self.attributes()
            gate, ext = attrs.gate, self.external_id(attrs)
            if self.tok.kind == "constructor":
                start = self.next().start
                params = self.param_list()
                result = self.type() if self.eat("->") else None
                ftype = ast.FuncType(params, result, (start, self.tokens[self.pos - 1].end))
                self.expect(";")
                func = ast.Func(ast.Id("constructor", (start, start + 11)), ftype, docs, gate, ext)
                funcs.append(ast.ResourceFunc("constructor", func))
                continue
            name = self.ident() if self.tok.kind == "id" else None
            if name is None:
                raise self.unexpected("`constructor`, a method (`name: func(...)`) or `}`")
            self.expect(":")
            kind = "static" if self.eat("static") else "method"
            ftype = self.func_type()
            self.expect(";")
            funcs.append(ast.ResourceFunc(kind, ast.Func(name, ftype, docs, gate, ext)))
        return funcs

    # --- types --------------------------------------------------------------------------

    def type(self) -> ast.TypeExpr:
        self.depth += 1
        if self.depth > MAX_TYPE_NESTING:
            raise self.error(self.tok.span, f"types nest more than {MAX_TYPE_NESTING} deep here")
        try:
            return self._type()
        finally:
            self.depth -= 1

    def _type(self) -> ast.TypeExpr:
        tok = self.tok
        kind = tok.kind
        if kind in PRIMITIVES:
            self.next()
            return ast.PrimType(kind, tok.span)
        if kind == "id":
            self.next()
            return ast.NamedType(ast.Id(tok.value, tok.span))
        if kind == "list":
            self.next()
            self.expect("<")
            element = self.type()
            length = None
            if self.eat(","):
                num = self.expect("number", "a list length")
                if not num.value.isdigit() or num.value.startswith("0"):
                    raise self.error(num.span, f"a fixed list length is a whole number of at least 1, not `{num.value}`")
                length = int(num.value)
            self.expect(">", "`>`" if length is not None else "`,` or `>`")
            return ast.ListType(element, (tok.start, self.tokens[self.pos - 1].end), length)
        if kind == "map":
            self.next()
            self.expect("<")
            key = self.type()
            self.expect(",")
            value = self.type()
            self.expect(">")
            return ast.MapType(key, value, (tok.start, self.tokens[self.pos - 1].end))
        if kind == "option":
            self.next()
            self.expect("<")
            element = self.type()
            self.expect(">")
            return ast.OptionType(element, (tok.start, self.tokens[self.pos - 1].end))
        if kind == "result":
            self.next()
            ok = err = None
            if self.eat("<"):
                if self.eat("_"):
                    self.expect(",")
                    err = self.type()
                else:
                    ok = self.type()
                    if self.eat(","):
                        err = self.type()
                self.expect(">", "`,` or `>`" if err is None else "`>`")
            return ast.ResultType(ok, err, (tok.start, self.tokens[self.pos - 1].end))
        if kind == "tuple":
            self.next()
            self.expect("<")
            elements = []
            while not self.eat(">"):
                elements.append(self.type())
                if not self.eat(","):
                    self.expect(">", "`,` or `>`")
                    break
            return ast.TupleType(elements, (tok.start, self.tokens[self.pos - 1].end))
        if kind in ("own", "borrow"):
            self.next()
            self.expect("<")
            resource = self.ident()
            self.expect(">")
            return ast.HandleType(kind, resource, (tok.start, self.tokens[self.pos - 1].end))
        raise self.unexpected("a type")

    # --- worlds -------------------------------------------------------------------------

    def world_items(self) -> list[ast.WorldItem]:
        self.expect("{")
        items: list[ast.WorldItem] = []
        while not self.eat("}"):
            items.append(self.world_item())
        return items

    def world_item(self) -> ast.WorldItem:
        """world-items ::= gate (export-item | import-item | use-item | typedef-item | include-item);
        as in wit-parser, an @external-id may precede any of them (on an `include` it is dropped)."""
        docs = _docs(self.tok)
        attrs = self.attributes()
        gate, kind = attrs.gate, self.tok.kind
        ext = self.external_id(attrs) if kind != "include" else None
        if kind in ("import", "export"):
            return self.extern(docs, gate, ext)
        if kind == "use":
            return self.use_item(gate, ext)
        if kind in _TYPEDEF_STARTS:
            return self.typedef(docs, gate, ext)
        if kind == "include":
            start = self.next().start
            path = self.use_path()
            renames = []
            if self.eat("with"):
                self.expect("{")
                while not self.eat("}"):
                    old = self.ident()
                    self.expect("as")
                    renames.append((old, self.ident()))
                    if not self.eat(","):
                        self.expect("}", "`,` or `}`")
                        break
            else:
                self.expect(";", "`;` or `with`")
            return ast.Include(path, renames, gate, (start, path.span[1]))
        raise self.unexpected("`import`, `export`, `include`, `use` or a type definition")

    def extern(self, docs: str, gate: ast.Gate, ext: str | None) -> ast.Extern:
        """import-item ::= 'import' id ':' extern-type | 'import' use-path ';' (same for export)"""
        direction = self.next()
        start = self.tok.start
        # `name:` followed by `func`, `interface` or a path gives the item a plain name; `a:b/c`
        # (no space needed) is a path into another package.  The token after the colon decides.
        colon, after = self.peek(), self.peek(2)
        # `a:b` with no space on either side of the colon is a package name (WIT.md: it "is lexed
        # as a single token"), so `import a:b;` is an error rather than an import named `a`.
        tight = colon.start == self.tok.end and after.start == colon.end and after.kind == "id"
        if self.tok.kind == "id" and colon.kind == ":" and not tight:
            if after.kind in ("func", "async"):
                name = self.ident()
                self.next()
                ftype = self.func_type()
                self.expect(";")
                return ast.Extern(direction.kind, ast.ExternFunc(name, ftype), docs, gate, ext, (start, name.span[1]))
            if after.kind == "interface":
                name = self.ident()
                self.next()
                self.next()
                items = self.interface_items()
                return ast.Extern(direction.kind, ast.ExternInterface(name, items), docs, gate, ext,
                                  (start, name.span[1]))
            if after.kind == "id" and self.peek(3).kind != "/":
                # `import name: iface;` or `import name: ns:pkg/iface;`
                name = self.ident()
                self.next()
                path = self.use_path()
                self.expect(";")
                return ast.Extern(direction.kind, ast.ExternPath(path, name), docs, gate, ext,
                                  (start, path.span[1]))
        path = self.use_path()
        self.expect(";")
        return ast.Extern(direction.kind, ast.ExternPath(path), docs, gate, ext, (start, path.span[1]))


@dataclass(frozen=True, slots=True)
class _Attributes:
    """The `@...(...)` list before an item: its gate, its @external-id, where the list starts."""

    gate: ast.Gate
    external_ids: tuple[tuple[str, tuple[int, int]], ...]  # (value, span of `@external-id`)
    span: tuple[int, int] | None  # None when there is no attribute


_NO_ATTRIBUTES = _Attributes(ast.NO_GATE, (), None)


def _docs(tok: Token) -> str:
    return "\n".join(tok.docs) if tok.docs else ""


def _describe_kind(kind: str) -> str:
    if kind == "id":
        return "an identifier"
    if kind == "number":
        return "a number"
    return f"`{kind}`"
