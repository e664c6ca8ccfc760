/* Where Alleycat's data files (racer and class names, the schema) live:
 * $ALLEYCAT_SHARE_DIR when set, then the installed data directory, then
 * data/ beside the program's directory, so that build/alleycat in the source
 * tree (as ./quickstart builds it) runs before it is installed. */
#ifndef ALLEYCAT_DATADIR_H
#define ALLEYCAT_DATADIR_H

/* The first of those directories that holds file (borrowed, valid for the
 * life of the process); NULL when none does. */
const char *datadir_find(const char *file);

#endif
