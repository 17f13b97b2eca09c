/* pybcc fallback header. */
#include <asm-generic/errno.h>
