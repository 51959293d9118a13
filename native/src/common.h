/* Internal helpers shared by the native sources (not part of the ABI). */
#ifndef EDGELOG_COMMON_H
#define EDGELOG_COMMON_H

#include <errno.h>

#define EDGELOG_API __attribute__((visibility("default")))

/* Record the failure detail for edgelog_last_error() and return `err`
 * (a negative errno) so call sites can write `return set_err(-EINVAL, ...)`. */
int set_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void clear_err(void);

#endif
