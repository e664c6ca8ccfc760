/* Reading the data files of the data-driven tests (catalogues, vectors). */
#ifndef ALLEYCAT_TESTFILE_H
#define ALLEYCAT_TESTFILE_H

#include <stddef.h>

/* The whole file, NUL-terminated (new, free it), its length in *len. Fails
 * the running test, naming the file, when it cannot be read. */
char *testfile_read(const char *path, size_t *len);

#endif
