/* Comparing the 16-byte names the kernel keeps for tasks (comm) and network
 * devices with a name the tool was given (a const volatile char[16]).
 */
#ifndef __PYBCC_NAMES_H
#define __PYBCC_NAMES_H

#define PYBCC_NAME_LEN 16

/* name equals want, up to the first NUL (or all 16 bytes). */
static __always_inline bool name_equal(const char *name, const volatile char *want)
{
    for (int i = 0; i < PYBCC_NAME_LEN; i++) {
        if (name[i] != want[i])
            return false;
        if (!name[i])
            break;
    }
    return true;
}

#endif
