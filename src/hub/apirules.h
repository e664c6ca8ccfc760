/* Request shapes as the Kinesis service model states them, and the check of
 * a request against its shape, worded as AWS words its answers.
 *
 * AWS checks a request in two passes, and so does this module. First the
 * JSON types: the first member of the wrong type ends the check with a
 * SerializationException ("class java.lang.String can not be converted to
 * an Integer"). Then the constraints of every member in the model's order
 * (not null, length, value, pattern, enum), all of them, at most ten: one
 * ValidationException lists them, "2 validation errors detected: ...",
 * joined by "; ". Only a request that keeps every constraint reaches the
 * operation. No I/O; rules are static tables. */
#ifndef ALLEYCAT_APIRULES_H
#define ALLEYCAT_APIRULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum apirule_kind {
	APIRULE_STRING,
	APIRULE_INTEGER,
	APIRULE_BOOLEAN,
	APIRULE_LIST,           /* of item */
	APIRULE_MAP,            /* of key to item */
	APIRULE_STRUCTURE,      /* of fields */
};

#define APIRULE_NO_LIMIT (-1LL)

struct apirule {
	const char *name;               /* the member as sent: "StreamName"; NULL ends a list */
	enum apirule_kind kind;
	bool required;
	long long min, max;             /* length, or value for integers; APIRULE_NO_LIMIT */
	const char *pattern;            /* AWS's text of the pattern, or NULL */
	const char *regex;              /* the same as a POSIX extended regex */
	const char *const *values;      /* an enum: NULL-terminated, or NULL */
	const struct apirule *item;     /* a list's members, a map's values */
	const struct apirule *key;      /* a map's keys */
	const struct apirule *fields;   /* a structure's members */
};

/* The outcome of a failed check: the error type and AWS's message. */
struct apirule_error {
	const char *type;               /* SerializationException or ValidationException */
	char message[1024];
};

/* Checks req (an object) against rules (ended by a rule with name NULL).
 * 0 when it keeps them all; -1 with err filled otherwise. */
int apirules_check(json_t *req, const struct apirule *rules, struct apirule_error *err);

/* The SerializationException message for v (not null) where the model
 * has a member of this kind, or NULL when v's JSON type fits. buf holds
 * the message when it needs one. */
const char *apirules_type_fault(json_t *v, enum apirule_kind kind, char *buf, size_t size);

/* Reads an integer member that apirules_check let through (a JSON number,
 * floored as AWS floors it), or dflt when absent. */
long long apirules_integer(json_t *req, const char *name, long long dflt);

/* Shapes the model shares among operations. */
#define APIRULE_STREAM_NAME_PATTERN "[a-zA-Z0-9_.-]+"
#define APIRULE_STREAM_NAME(required)                                                    \
	{ "StreamName", APIRULE_STRING, required, 1, 128, APIRULE_STREAM_NAME_PATTERN,     \
	  "[a-zA-Z0-9_.-]+", NULL, NULL, NULL, NULL }
#define APIRULE_STREAM_ARN(required)                                                     \
	{ "StreamARN", APIRULE_STRING, required, 1, 2048,                                  \
	  "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",                                    \
	  "arn:aws.*:kinesis:.*:[0-9]{12}:stream/[^[:space:]]+", NULL, NULL, NULL, NULL }
#define APIRULE_RESOURCE_ARN                                                             \
	{ "ResourceARN", APIRULE_STRING, true, 1, 2048,                                    \
	  "arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+",                                  \
	  "arn:aws.*:kinesis:.*:[0-9]{12}:.*stream/[^[:space:]]+", NULL, NULL, NULL, NULL }
#define APIRULE_STREAM_ID                                                                \
	{ "StreamId", APIRULE_STRING, false, 1, 24, "[a-z0-9]{20}-[a-z0-9]{3}",            \
	  "[a-z0-9]{20}-[a-z0-9]{3}", NULL, NULL, NULL, NULL }
#define APIRULE_END { NULL, APIRULE_STRING, false, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL }

#endif
