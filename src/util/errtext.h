/* Error text: how a function that can fail says why. It takes
 * `char *err, size_t errlen`, returns -1 or NULL, and writes one line into
 * err, without the "alleycat: " prefix; the caller prints or logs it. */
#ifndef ALLEYCAT_ERRTEXT_H
#define ALLEYCAT_ERRTEXT_H

/* The room a caller gives for the line: a path and the system's reason. */
#define ERR_TEXT_MAX 512

#endif
