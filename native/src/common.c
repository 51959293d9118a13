// Error detail, ABI version and scratch memory shared by both features.
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <stdint.h>

#include "edgelog_native.h"
#include "common.h"

static __thread char last_error[512];

int set_err(int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	if (err < 0 && n >= 0 && (size_t)n < sizeof(last_error))
		snprintf(last_error + n, sizeof(last_error) - (size_t)n, ": %s", strerror(-err));
	return err;
}

void clear_err(void)
{
	last_error[0] = '\0';
}

EDGELOG_API int edgelog_abi_version(void)
{
	return EDGELOG_NATIVE_ABI_VERSION;
}

EDGELOG_API const char *edgelog_last_error(void)
{
	return last_error;
}

/* mmap-backed so the region is page aligned and never shares a page with the
 * malloc heap; the size is kept in a header page-prefix. */
EDGELOG_API void *edgelog_mem_alloc(size_t size)
{
	size_t total = size + 4096;
	uint8_t *p;

	p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		set_err(-errno, "mmap %zu bytes", total);
		return NULL;
	}
	memcpy(p, &total, sizeof(total));
	return p + 4096;
}

EDGELOG_API void edgelog_mem_free(void *ptr)
{
	uint8_t *p = ptr;
	size_t total;

	if (!p)
		return;
	p -= 4096;
	memcpy(&total, p, sizeof(total));
	munmap(p, total);
}

/* The JavaScript bindings (agent/native/ TypeScript) read and write these structs by
 * offset; a layout change must fail the build, not corrupt memory. */
_Static_assert(sizeof(struct edgelog_guard_opts) == 272, "guard opts layout");
_Static_assert(offsetof(struct edgelog_guard_opts, pin_root) == 8, "guard opts layout");
_Static_assert(offsetof(struct edgelog_guard_counters, nrules) == 128, "counters layout");
_Static_assert(offsetof(struct edgelog_guard_counters, rules) == 136, "counters layout");
_Static_assert(sizeof(struct edgelog_guard_rule_stat) == 80, "rule stat layout");
_Static_assert(offsetof(struct edgelog_guard_rule_stat, cidr) == 24, "rule stat layout");
_Static_assert(sizeof(struct edgelog_uring_opts) == 24, "uring opts layout");
_Static_assert(offsetof(struct edgelog_uring_opts, zc_threshold) == 16, "uring opts layout");
_Static_assert(sizeof(struct edgelog_uring_send) == 24, "uring send layout");
_Static_assert(offsetof(struct edgelog_uring_send, user_data) == 16, "uring send layout");
_Static_assert(sizeof(struct edgelog_uring_completion) == 16, "uring completion layout");
_Static_assert(sizeof(struct edgelog_uring_stats) == 64, "uring stats layout");
