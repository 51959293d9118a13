// Error detail, ABI version and scratch memory shared by both features.
#define _GNU_SOURCE
#include <stdarg.h>
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
