/* The language runtimes' USDT probes, read the same way for every language
 * (ucalls, uflow, ugc, uobjnew, ustat): each attachment's cookie (see
 * pybcc/tools/lib/langs.py) says which probe arguments, counted from 1 as
 * bcc counts them, hold the class and method names and their lengths (Java
 * passes lengths, not NUL-terminated strings); 0 means "not there".
 */
#ifndef __PYBCC_LANGS_H
#define __PYBCC_LANGS_H

#include <bpf/usdt.bpf.h>

#define LANG_STR 80            /* bcc's MAX_STRING_LENGTH */
#define LANG_RETURN (1 << 16)  /* the cookie of a return probe */

struct method_name {
    char clazz[LANG_STR];
    char method[LANG_STR];
};

/* Argument ``nr`` (from 1) of the probe, 0 if absent. */
static __always_inline long lang_arg(struct pt_regs *ctx, u32 nr)
{
    long v = 0;

    if (nr)
        bpf_usdt_arg(ctx, nr - 1, &v);
    return v;
}

/* The string at argument ``arg`` into buf (``size`` bytes, a constant,
 * zeroed by the caller); ``len_arg`` gives its length when it is not
 * NUL-terminated. */
static __always_inline void lang_string(struct pt_regs *ctx, char *buf, u32 size, u32 arg,
                                        u32 len_arg)
{
    void *ptr;
    u64 len;

    if (!arg)
        return;
    ptr = (void *)lang_arg(ctx, arg);
    if (!len_arg) {
        bpf_probe_read_user_str(buf, size, ptr);
        return;
    }
    len = lang_arg(ctx, len_arg);
    if (len > size - 1)
        len = size - 1;
    bpf_probe_read_user(buf, len, ptr);
}

/* Class and method names of a method entry/return probe (cookie fields:
 * class, class length, method, method length: 4 bits each). */
static __always_inline void lang_method(struct pt_regs *ctx, struct method_name *m)
{
    u64 c = bpf_usdt_cookie(ctx);

    lang_string(ctx, m->clazz, LANG_STR, c & 0xf, (c >> 4) & 0xf);
    lang_string(ctx, m->method, LANG_STR, (c >> 8) & 0xf, (c >> 12) & 0xf);
}

/* Does nothing: a uprobe that holds a USDT semaphore up (langs.py's
 * enable_semaphore) runs it. */
SEC("uprobe")
int semaphore_holder(struct pt_regs *ctx)
{
    return 0;
}

#endif
