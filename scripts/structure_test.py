"""Tests for structure.py on tiny fixture crates: python3 -m unittest scripts/structure_test.py"""

import contextlib
import io
import os
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import structure  # noqa: E402


class Fixture:
    """A temporary tree holding `files` (path -> Rust source), read by structure.py."""

    def __init__(self, files: dict[str, str]):
        self.dir = tempfile.TemporaryDirectory()
        for rel, text in files.items():
            path = os.path.join(self.dir.name, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(textwrap.dedent(text))
        self.graph = structure.Graph(self.dir.name)
        self.graph.build()
        self.files = structure.production_files(self.graph)

    def arrows(self) -> dict[tuple[str, str], set[str]]:
        return dict(self.graph.arrows)

    def circles(self) -> str:
        return "\n".join(structure.check_circles(self.graph))

    def storage(self) -> str:
        return "\n".join(structure.check_storage(self.graph))

    def sql(self) -> str:
        return "\n".join(structure.check_sql(self.graph, self.files))

    def sizes(self) -> str:
        return "\n".join(structure.check_sizes(self.graph, self.files))

    def close(self) -> None:
        self.dir.cleanup()


class StructureTest(unittest.TestCase):
    def fixture(self, files: dict[str, str]) -> Fixture:
        fx = Fixture(files)
        self.addCleanup(fx.close)
        return fx

    def test_circle_through_a_mod_rs_that_defines_and_reexports(self):
        fx = self.fixture({
            "src/lib.rs": "pub mod a;\npub mod c;\n",
            "src/a/mod.rs": """
                mod b;
                pub use b::B;
                pub struct A;
            """,
            "src/a/b.rs": "use super::A;\npub struct B(pub A);\n",
            "src/c.rs": "use crate::a::B;\npub fn c(_: B) {}\n",
        })
        arrows = fx.arrows()
        self.assertEqual(arrows[("src/a/mod.rs", "src/a/b.rs")], {"B"})
        self.assertEqual(arrows[("src/a/b.rs", "src/a/mod.rs")], {"A"})
        # A name the file re-exports stops at it: it is a file like any other.
        self.assertEqual(arrows[("src/c.rs", "src/a/mod.rs")], {"B"})
        self.assertIn("src/a/b.rs, src/a/mod.rs", fx.circles())
        self.assertIn("src/a/b.rs -> src/a/mod.rs: A", fx.circles())

    def test_transparent_mod_rs_draws_no_circle(self):
        fx = self.fixture({
            "src/lib.rs": "pub mod t;\npub mod user;\n",
            "src/t/mod.rs": """
                //! Only modules and re-exports: seen through.
                mod x;
                mod y;
                #[doc(hidden)]
                pub use x::X;
                pub use y::Y;
            """,
            "src/t/x.rs": "use super::Y;\npub struct X(pub Y);\n",
            "src/t/y.rs": "pub struct Y;\n",
            "src/user.rs": "use crate::t::{X, Y};\npub fn u(_: X, _: Y) {}\n",
        })
        arrows = fx.arrows()
        self.assertEqual(arrows[("src/t/x.rs", "src/t/y.rs")], {"Y"})
        self.assertEqual(arrows[("src/user.rs", "src/t/x.rs")], {"X"})
        self.assertNotIn(("src/t/mod.rs", "src/t/x.rs"), arrows)
        self.assertFalse(any("src/t/mod.rs" in pair for pair in arrows))
        self.assertEqual(fx.circles(), "")

    def test_inline_paths_draw_arrows_and_strings_and_comments_do_not(self):
        fx = self.fixture({
            "src/lib.rs": "pub mod p;\npub mod q;\npub mod quiet;\n",
            "src/p.rs": "pub fn g() { crate::q::f() }\npub fn h() {}\n",
            "src/q.rs": "pub fn f() {\n    super::super::crate_name();\n    crate::p::h();\n}\n",
            "src/quiet.rs": """
                // crate::p::h() in a comment
                /* crate::q::f() /* nested */ still a comment */
                pub fn r#type() -> &'static str {
                    let _c = '"';
                    let _s = r#"crate::p::h() "quoted""#;
                    let _b = b"crate::q::f";
                    "crate::p::g"
                }
            """,
        })
        arrows = fx.arrows()
        self.assertEqual(arrows[("src/p.rs", "src/q.rs")], {"f"})
        self.assertEqual(arrows[("src/q.rs", "src/p.rs")], {"h"})
        self.assertFalse(any(a == "src/quiet.rs" for a, _ in arrows))
        self.assertIn("src/p.rs, src/q.rs", fx.circles())

    def test_module_brought_in_by_use_then_named_in_a_path(self):
        fx = self.fixture({
            "src/lib.rs": "pub mod backend;\n",
            "src/backend/mod.rs": "pub mod store;\npub mod targets;\n",
            "src/backend/store.rs": "pub struct Target;\n",
            "src/backend/targets.rs": "use crate::backend::store;\npub fn t() -> store::Target { store::Target }\n",
        })
        self.assertEqual(fx.arrows(), {("src/backend/targets.rs", "src/backend/store.rs"): {"Target"}})

    def test_use_super_glob_draws_arrows_for_the_names_used(self):
        fx = self.fixture({
            "src/lib.rs": "pub mod g;\npub mod h;\n",
            "src/g/mod.rs": """
                mod child;
                pub fn helper() {}
                pub struct Unused;
                pub fn run() { child::go() }
            """,
            "src/g/child.rs": "use super::*;\npub fn go() { helper() }\n",
            "src/h/mod.rs": "mod quiet;\npub fn helper() {}\n",
            "src/h/quiet.rs": "use super::*;\npub fn go() {}\n",
        })
        arrows = fx.arrows()
        self.assertEqual(arrows[("src/g/child.rs", "src/g/mod.rs")], {"helper"})
        self.assertNotIn(("src/h/quiet.rs", "src/h/mod.rs"), arrows)
        self.assertIn("src/g/child.rs, src/g/mod.rs", fx.circles())

    def test_cfg_test_items_are_ignored(self):
        fx = self.fixture({
            "src/lib.rs": "pub mod a;\npub mod b;\n",
            "src/a.rs": "pub fn f() { crate::b::g() }\n\n#[cfg(test)]\nmod tests;\n",
            "src/a/tests.rs": "use crate::a::f;\nconst Q: &str = \"SELECT 1 FROM t\";\n",
            "src/b.rs": """
                pub fn g() {}

                #[cfg(test)]
                mod tests {
                    use super::*;
                    fn t() { crate::a::f(); g(); let _ = "DELETE FROM users"; }
                }
            """,
        })
        self.assertEqual(fx.arrows(), {("src/a.rs", "src/b.rs"): {"g"}})
        self.assertEqual(fx.circles(), "")
        self.assertEqual(fx.sql(), "")
        self.assertNotIn("src/a/tests.rs", fx.files)

    def test_storage_may_not_import_a_service(self):
        fx = self.fixture({
            "src/lib.rs": "pub mod backend;\npub mod domain;\n",
            "src/domain/mod.rs": "pub struct Role;\n",
            "src/backend/mod.rs": "pub mod model;\npub mod service;\npub mod store;\n",
            "src/backend/model/mod.rs": "pub struct Entity;\n",
            "src/backend/service.rs": "pub fn host_only() {}\n",
            "src/backend/store/mod.rs": """
                use crate::backend::model::Entity;
                use crate::domain::Role;
                pub fn save(_: Entity, _: Role) { crate::backend::service::host_only() }
            """,
        })
        self.assertEqual(fx.storage(), "src/backend/store/mod.rs -> src/backend/service.rs: host_only")

    def test_sql_outside_storage(self):
        fx = self.fixture({
            "src/lib.rs": "pub mod backend;\n",
            "src/backend/mod.rs": "pub mod limits;\npub mod store;\npub mod text;\n",
            "src/backend/limits.rs": """
                const READ: &str = "
                    SELECT key, events FROM limiter_counts WHERE key = $1";
                pub async fn prune(pool: &sqlx::PgPool) {
                    sqlx::query(READ).execute(pool).await.ok();
                }
            """,
            "src/backend/text.rs": """
                //! SELECT id FROM users is a comment here, not SQL.
                use sqlx::query_as;
                pub const HINT: &str = "Update the target, then retry.";
                pub const MENU: &str = "Select a project from the list.";
                pub const DELETED: &str = "delete this key?";
                pub fn f() { let _ = query_as::<_, (i64,)>; }
            """,
            "src/backend/store/mod.rs": """
                pub const PING: &str = "SELECT 1";
                pub const UPSERT: &str = r#"INSERT INTO "t" (a) VALUES ($1)"#;
            """,
        })
        found = fx.sql()
        self.assertIn("src/backend/limits.rs:2: SQL string", found)
        self.assertIn("src/backend/limits.rs:5: sqlx::query", found)
        self.assertIn("src/backend/text.rs:3: sqlx::query_as", found)  # the import
        self.assertIn("src/backend/text.rs:7: query_as (from sqlx)", found)
        for quiet in ("text.rs:2", "text.rs:4", "text.rs:5", "text.rs:6", "store"):
            self.assertNotIn(quiet, found)
        self.assertEqual(len(found.splitlines()), 4, found)

    def test_file_size_counts_code_lines_before_cfg_test(self):
        body = "".join(f"pub const C{i}: u32 = {i};\n" for i in range(300))
        padding = "\n// a comment\n/* a block\n   comment */\n\n"
        tail = "#[cfg(test)]\nmod tests {\n" + "    fn t() {}\n" * 50 + "}\n"
        fx = self.fixture({
            "src/lib.rs": "pub mod big;\npub mod fits;\n",
            "src/big.rs": body + "pub const LAST: u32 = 0;\n",
            "src/fits.rs": padding + body + padding + tail,
        })
        self.assertEqual(fx.sizes(), "src/big.rs: 301 lines of code (max 300)")

    def test_main_exit_status_and_quiet_output(self):
        fx = self.fixture({"src/lib.rs": "pub mod a;\n", "src/a.rs": "pub fn f() {}\n"})
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = structure.main(["--root", fx.dir.name, "--quiet"])
        self.assertEqual((code, out.getvalue()), (0, ""))
        fx = self.fixture({"src/lib.rs": "pub mod a;\npub mod b;\n", "src/a.rs": "use crate::b::g;\npub fn f() {}\n",
                           "src/b.rs": "use crate::a::f;\npub fn g() {}\n"})
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = structure.main(["--root", fx.dir.name, "--graph"])
        self.assertEqual(code, 1)
        self.assertIn("src/a.rs -> src/b.rs: g", out.getvalue())
        self.assertIn("1. import circles between files: 1 violation(s)", out.getvalue())
        self.assertIn("4. production files at most 300 lines of code: OK", out.getvalue())


if __name__ == "__main__":
    unittest.main()
