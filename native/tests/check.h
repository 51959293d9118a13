/* Minimal assertions for the C tests: CHECK fails the test (exit 1) with
 * the location, SKIP exits 77 with a reason (the runner reports it). */
#ifndef EDGELOG_CHECK_H
#define EDGELOG_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include "edgelog_native.h"

#define CHECK(cond, ...) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
	fprintf(stderr, __VA_ARGS__); \
	fprintf(stderr, " [last error: %s]\n", edgelog_last_error()); \
	exit(1); } } while (0)

#define SKIP(...) do { printf(__VA_ARGS__); printf("\n"); exit(77); } while (0)
#endif
