import shutil
import subprocess

import pytest

POINTS_H = "struct point { int x; int y; struct point *next; };\n"
POINTS_C = r"""
#include <stdlib.h>
#include "points.h"
__attribute__((noinline)) int walk(struct point *p) { return p->x + p->next->y; }
int main(int argc, char **argv) {
    struct point b = {atoi(argv[1]) + 1, atoi(argv[1]) + 2, 0}, a = {atoi(argv[1]), 7, &b};
    return walk(&a) & 1;
}
"""


@pytest.fixture(scope="session")
def points(tmp_path_factory):
    """(a program calling walk(&a) with a.next = &b, b = {N+1, N+2} for its
    argument N; the header declaring struct point) for trace/argdist -I."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the uprobe target")
    d = tmp_path_factory.mktemp("points")
    (d / "points.h").write_text(POINTS_H)
    (d / "points.c").write_text(POINTS_C)
    subprocess.run(["gcc", "-O1", "-o", str(d / "points"), str(d / "points.c")], check=True)
    return str(d / "points"), str(d / "points.h")
