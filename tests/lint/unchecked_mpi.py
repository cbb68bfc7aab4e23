#!/usr/bin/env python3
"""Fails if any MPI call in sgnn's C++ sources goes unchecked.

Every MPI function returns an error code, and sgnn runs its communicators with
MPI_ERRORS_RETURN, so an unchecked call is a failure nobody sees. A call is checked
when it is the first argument of comm::check_mpi (throws) or comm::report_mpi (for
destructors and clean-up: prints and carries on), as in

    comm::check_mpi(MPI_Bcast(&n, 1, MPI_INT, 0, comm), "MPI_Bcast(length)");

MPI_Wtime and MPI_Wtick return times, not codes, MPI_Abort does not return, and
MPI_Error_string is what the checkers call to word a failure; they are exempt. Comments and string literals are ignored.

Usage: unchecked_mpi.py [ROOT]   (default: the repository holding this script)
Prints each unchecked call as FILE:LINE: CALL and exits 1 if there is any.
"""
import pathlib
import re
import sys

EXEMPT = {"MPI_Wtime", "MPI_Wtick", "MPI_Abort", "MPI_Error_string"}
CHECKERS = ("check_mpi(", "report_mpi(")
CALL = re.compile(r"\bMPI_[A-Z][A-Za-z_]*\s*\(")


def code_only(text):
    """The text with comments and string and character literals blanked (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith('R"', i):
            delimiter = text[i + 2:text.index("(", i)]
            j = text.index(")" + delimiter + '"', i) + len(delimiter) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (j - i - 1) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def unchecked_calls(path):
    code = code_only(path.read_text())
    found = []
    for match in CALL.finditer(code):
        name = match.group(0).rstrip("( \t\n")
        if name in EXEMPT:
            continue
        before = code[:match.start()].rstrip()
        if before.endswith(CHECKERS):
            continue
        # A call that wraps the checked call on the same line is fine only through the
        # checkers above; anything else (a bare statement, an `if (MPI_...)`) is not.
        line = code.count("\n", 0, match.start()) + 1
        found.append((line, name))
    return found


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2])
    sources = []
    for folder in ("src", "include", "tests", "examples"):
        sources += [p for p in (root / folder).rglob("*") if p.suffix in (".cpp", ".hpp", ".h", ".cc")]
    bad = 0
    for path in sorted(sources):
        for line, name in unchecked_calls(path):
            print(f"{path.relative_to(root)}:{line}: {name} is not checked (wrap it in comm::check_mpi)")
            bad += 1
    if bad:
        print(f"{bad} unchecked MPI call(s)")
        return 1
    print(f"every MPI call in {len(sources)} files is checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
