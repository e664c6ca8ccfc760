/* Where Alleycat keeps its files by default, as the XDG base directory
 * specification says: history under $XDG_DATA_HOME/alleycat (default
 * ~/.local/share/alleycat), settings under $XDG_CONFIG_HOME/alleycat. */
#ifndef ALLEYCAT_PATHS_H
#define ALLEYCAT_PATHS_H

#include <stddef.h>

/* The default history database path. */
void paths_history_db(char *out, size_t size);

/* The settings file path. */
void paths_config_file(char *out, size_t size);

/* "COMMAND-HOSTNAME": the default consumer name of a command. */
void paths_consumer_name(const char *command, char *out, size_t size);

#endif
