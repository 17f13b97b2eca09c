# Errors name the user's line: a C syntax error (CompileError), a program
# the verifier rejects (VerifierError), a missing table (KeyError).
from bcc import BPF
from pybcc.errors import CompileError, VerifierError
from scriptlib import check, passed

try:
    BPF(text="""
BPF_HASH(counts, u32, u64);

int oops(void *ctx) {
    u32 x = ;
    return 0;
}
""")
    check(False, "syntax error not reported")
except CompileError as e:
    print(str(e).splitlines()[0])
    check(":5:" in str(e), "compile error names line 5: %s" % e)

b = BPF(text="""
BPF_HASH(arr, u32, u64);

int bad(void *ctx) {
    u32 k = 0;
    u64 *v = arr.lookup(&k);
    return *v;
}
""")
try:
    b.load_func("bad", BPF.TRACEPOINT)
    check(False, "verifier did not reject a NULL dereference")
except VerifierError as e:
    text = str(e)
    print("\n".join(text.splitlines()[:3]))
    check("<text>:7: return *v;" in text, "verifier error shows the line: %s" % text[:500])
try:
    b["nope"]
    check(False, "missing table")
except KeyError as e:
    check("nope" in str(e), str(e))
passed("readable_errors")
