/* Where Alleycat's data files (racer and class names, the schema) live:
 * $ALLEYCAT_SHARE_DIR when set, then the installed data directory, then the
 * source tree's data/ (so a build runs before it is installed). */
#ifndef ALLEYCAT_DATADIR_H
#define ALLEYCAT_DATADIR_H

/* The first of those directories that holds file; NULL when none does. */
const char *datadir_find(const char *file);

#endif
