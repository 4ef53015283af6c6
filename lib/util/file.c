/* SPDX-License-Identifier: BSD-3-Clause */
/* Small file helpers (sysfs attributes). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int vpio_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if (len == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return (int)n;
}

int vpio_read_u64_file(const char *path, uint64_t *val)
{
	char buf[64], *end;
	int rc = vpio_read_file(path, buf, sizeof(buf));

	if (rc < 0)
		return rc;
	if (rc == 0)
		return -EINVAL;
	errno = 0;
	*val = strtoull(buf, &end, 0);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	return 0;
}
