#include "config.h"
#include "dbfiles.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

/* Sets or clears the immutable attribute. 0 when done; -1 when the file
 * is missing, the file system has no such attribute or the caller may
 * not set it. */
static int set_immutable(const char *path, bool on)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK), flags, rc = -1;

	if (fd < 0)
		return -1;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
		flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
		rc = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
	return rc;
}

bool read_only_files(const char *path, bool on)
{
	char wal[PATH_MAX + 8];

	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (geteuid() == 0) {
		set_immutable(wal, on);
		return set_immutable(path, on) == 0;
	}
	chmod(wal, on ? 0444 : 0644);
	return chmod(path, on ? 0444 : 0644) == 0;
}

bool read_only_stops_open_files(void)
{
	return geteuid() == 0;
}

int temp_dir_make(char *dir, size_t size, const char *prefix)
{
	if (snprintf(dir, size, "/tmp/%s-XXXXXX", prefix) >= (int)size)
		return -1;
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (geteuid() == 0)
		set_immutable(path, false);     /* an immutable file cannot be removed */
	return remove(path);
}

int temp_dir_remove(const char *dir)
{
	return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
