/* Comparing a name the kernel keeps (a task's comm, a network device's or
 * a workqueue's name) with one the tool was given (a const volatile char[]).
 */
#ifndef __PYBCC_NAMES_H
#define __PYBCC_NAMES_H

/* name equals want, up to the first NUL or len bytes (a constant). */
static __always_inline bool name_equal(const char *name, const volatile char *want, int len)
{
    for (int i = 0; i < len; i++) {
        if (name[i] != want[i])
            return false;
        if (!name[i])
            break;
    }
    return true;
}

#endif
