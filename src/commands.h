/* The entry points of the sub-commands, each in its cmd_*.c file. */
#ifndef ALLEYCAT_COMMANDS_H
#define ALLEYCAT_COMMANDS_H

#include <getopt.h>
#include <stdio.h>

int hub_main(int argc, char **argv);
void hub_usage(FILE *out);
/* alleycat hub reshard: argv[0] is "reshard". */
int hub_reshard_main(int argc, char **argv);

int sim_main(int argc, char **argv);
void sim_usage(FILE *out);

int board_main(int argc, char **argv);
void board_usage(FILE *out);

int history_main(int argc, char **argv);
void history_usage(FILE *out);

int watch_main(int argc, char **argv);
void watch_usage(FILE *out);
int kiosk_main(int argc, char **argv);
void kiosk_usage(FILE *out);
int demo_main(int argc, char **argv);
void demo_usage(FILE *out);

/* Each command's long options, for settings from the environment and the
 * config file. */
extern const struct option hub_options[], hub_reshard_settings[], sim_options[],
	board_options[], history_options[], watch_options[], demo_options[];

#endif
