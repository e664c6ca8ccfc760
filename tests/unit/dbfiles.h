/* Database files for the tests of the store and the consumer: a
 * temporary directory to keep them in, and a way to make them read-only
 * for real. */
#ifndef ALLEYCAT_TEST_DBFILES_H
#define ALLEYCAT_TEST_DBFILES_H

#include <stdbool.h>
#include <stddef.h>

/* A new directory under /tmp named from prefix ("/tmp/PREFIX-XXXXXX"),
 * written to dir; -1 on failure. */
int temp_dir_make(char *dir, size_t size, const char *prefix);

/* Removes dir and everything below it, read-only files included. */
int temp_dir_remove(const char *dir);

/* Makes the database at path and its write-ahead log read-only, or
 * writable again: for root with the immutable attribute (chattr +i),
 * since chmod stops root from nothing, and which also stops writes through
 * descriptors opened before; for others with chmod, which stops only new
 * descriptors for writing. Never the -shm file: SQLite maps it, and a
 * write to an immutable mapping is a SIGBUS, not an error. False when the
 * database cannot be made read-only here (no such attribute on this file
 * system, say). */
bool read_only_files(const char *path, bool on);

/* Whether read_only_files also stops a process that has the files open
 * already (only the immutable attribute does). */
bool read_only_stops_open_files(void);

#endif
