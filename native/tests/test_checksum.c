/* CRC32C: the published check value, equal to a bit-by-bit reference at
 * every length and alignment, and continuation; run once as the host allows
 * (SSE4.2 where present) and once more forced onto the table path. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

/* the table path, for comparison: bit by bit, from the polynomial */
static uint32_t crc_bits(uint32_t crc, const uint8_t *p, size_t n)
{
	uint32_t c = ~crc;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

int main(int argc, char **argv)
{
	static uint8_t buf[4096 + 16];
	uint32_t x = 12345;

	/* the check value of CRC-32C (Castagnoli) over "123456789" */
	CHECK(edgelog_crc32c(0, "123456789", 9) == 0xe3069283u, "check value: %08x", edgelog_crc32c(0, "123456789", 9));
	CHECK(edgelog_crc32c(7, buf, 0) == 7, "empty input keeps the crc");
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 24);
	}
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len < 300; len += 7)
			CHECK(edgelog_crc32c(0, buf + off, len) == crc_bits(0, buf + off, len), "off %zu len %zu", off, len);
	/* continuing over two parts is the crc of the whole */
	uint32_t a = edgelog_crc32c(0, buf, 1000);
	CHECK(edgelog_crc32c(a, buf + 1000, 3096) == edgelog_crc32c(0, buf, 4096), "continuation");
	if (argc > 1) {
		CHECK(edgelog_crc32c_hw() == 0, "EDGELOG_CRC32C_SOFTWARE=1 selects the table path");
		return 0;
	}
	/* again on the table path (a host without SSE4.2 takes it) */
	setenv("EDGELOG_CRC32C_SOFTWARE", "1", 1);
	execl(argv[0], argv[0], "software", (char *)NULL);
	CHECK(0, "re-exec for the table path");
	return 1;
}
