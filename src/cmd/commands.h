/* The entry points of the sub-commands, each in its cmd_*.c file. */
#ifndef ALLEYCAT_COMMANDS_H
#define ALLEYCAT_COMMANDS_H

#include <getopt.h>
#include <stdio.h>

int cmd_hub(int argc, char **argv);
void cmd_hub_usage(FILE *out);
/* alleycat hub reshard: argv[0] is "reshard". */
int hub_reshard_main(int argc, char **argv);

int cmd_sim(int argc, char **argv);
void cmd_sim_usage(FILE *out);

int cmd_board(int argc, char **argv);
void cmd_board_usage(FILE *out);

int cmd_history(int argc, char **argv);
void cmd_history_usage(FILE *out);

int cmd_watch(int argc, char **argv);
void cmd_watch_usage(FILE *out);
int cmd_kiosk(int argc, char **argv);
void cmd_kiosk_usage(FILE *out);
int cmd_demo(int argc, char **argv);
void cmd_demo_usage(FILE *out);

/* Each command's long options, for settings from the environment and the
 * config file. */
extern const struct option cmd_hub_options[], hub_reshard_settings[], cmd_sim_options[],
	cmd_board_options[], cmd_history_options[], cmd_watch_options[], cmd_demo_options[];

#endif
