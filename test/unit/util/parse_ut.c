/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/util's number and size grammar (vpio_parse_u64/_size). */
#include <errno.h>
#include <stdint.h>

#include "util/util.h"
#include "common/vpio_test.h"

#define UNTOUCHED 0x5a5a5a5a5a5a5a5aull

static void test_u64(void)
{
	static const char *const inval[] = {
		"", "-1", "+1", " 1", "1 ", "010", "00", "08", "0x10", "1e3", "1.0", "12x", "1K", "\t1", "1\n", "x",
	};
	uint64_t v;

	CU_ASSERT_EQUAL(vpio_parse_u64("0", 10, &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(vpio_parse_u64("10", 10, &v), 0);
	CU_ASSERT_EQUAL(v, 10);
	CU_ASSERT_EQUAL(vpio_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
	CU_ASSERT_EQUAL(v, UINT64_MAX);

	v = UNTOUCHED;
	for (size_t i = 0; i < VPIO_ARRAY_SIZE(inval); i++) {
		int rc = vpio_parse_u64(inval[i], UINT64_MAX, &v);

		if (rc != -EINVAL)
			fprintf(stderr, "'%s' gave %d\n", inval[i], rc);
		CU_ASSERT_EQUAL(rc, -EINVAL);
	}
	CU_ASSERT_EQUAL(vpio_parse_u64(NULL, UINT64_MAX, &v), -EINVAL);
	CU_ASSERT_EQUAL(vpio_parse_u64("11", 10, &v), -ERANGE);
	CU_ASSERT_EQUAL(vpio_parse_u64("18446744073709551616", UINT64_MAX, &v), -ERANGE);
	CU_ASSERT_EQUAL(vpio_parse_u64("99999999999999999999", UINT64_MAX, &v), -ERANGE);
	/* garbage after too many digits is garbage, not a range error */
	CU_ASSERT_EQUAL(vpio_parse_u64("99999999999999999999x", UINT64_MAX, &v), -EINVAL);
	CU_ASSERT_EQUAL(v, UNTOUCHED);
}

static void test_size_good(void)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{ "0", 0 }, { "4096", 4096 }, { "512B", 512 }, { "512b", 512 }, { "4K", 4096 }, { "4k", 4096 },
		{ "4KiB", 4096 }, { "4kib", 4096 }, { "64M", 64ull << 20 }, { "64MiB", 64ull << 20 },
		{ "1G", 1ull << 30 }, { "1GiB", 1ull << 30 }, { "2T", 2ull << 40 }, { "2TiB", 2ull << 40 },
		{ "16777215T", 16777215ull << 40 }, { "18446744073709551615", UINT64_MAX }, { "10M", 10ull << 20 },
	};
	uint64_t v;

	for (size_t i = 0; i < VPIO_ARRAY_SIZE(good); i++) {
		v = UNTOUCHED;
		CU_ASSERT_EQUAL(vpio_parse_size(good[i].s, &v), 0);
		if (v != good[i].v)
			fprintf(stderr, "'%s' gave %llu\n", good[i].s, (unsigned long long)v);
		CU_ASSERT_EQUAL(v, good[i].v);
	}
}

static void test_size_bad(void)
{
	static const char *const inval[] = {
		"", "K", "010", "010K", "00", "0x1000", "1MB", "1KB", "1mb", "1.5G", " 4K", "4K ", "4 K", "-4K", "+4K",
		"4Ki", "4KiBB", "4BB", "4P", "12Q", "1e3", "4K\n",
	};
	static const char *const range[] = {
		"18446744073709551616", "16777216T", "17179869184G", "99999999999999999999", "99999999999999999999K",
	};
	uint64_t v = UNTOUCHED;

	for (size_t i = 0; i < VPIO_ARRAY_SIZE(inval); i++) {
		int rc = vpio_parse_size(inval[i], &v);

		if (rc != -EINVAL)
			fprintf(stderr, "'%s' gave %d\n", inval[i], rc);
		CU_ASSERT_EQUAL(rc, -EINVAL);
	}
	for (size_t i = 0; i < VPIO_ARRAY_SIZE(range); i++) {
		int rc = vpio_parse_size(range[i], &v);

		if (rc != -ERANGE)
			fprintf(stderr, "'%s' gave %d\n", range[i], rc);
		CU_ASSERT_EQUAL(rc, -ERANGE);
	}
	CU_ASSERT_EQUAL(vpio_parse_size(NULL, &v), -EINVAL);
	CU_ASSERT_EQUAL(v, UNTOUCHED);
}

static int register_tests(void)
{
	VPIO_SUITE("util_parse", NULL, NULL);
	VPIO_TEST(test_u64);
	VPIO_TEST(test_size_good);
	VPIO_TEST(test_size_bad);
	return 0;
}

int main(void)
{
	return vpio_test_run(register_tests);
}
