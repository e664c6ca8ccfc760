#include "config.h"
#include "hub/connlimit.h"

#include <string.h>

void connlimit_init(struct conn_limit *cl, size_t max)
{
	memset(cl, 0, sizeof(*cl));
	cl->max = max;
}

static void unlink_waiting(struct conn_limit *cl, struct conn_slot *slot)
{
	if (slot->prev)
		slot->prev->next = slot->next;
	else
		cl->oldest = slot->next;
	if (slot->next)
		slot->next->prev = slot->prev;
	else
		cl->newest = slot->prev;
	slot->prev = slot->next = NULL;
	slot->waiting = false;
}

bool connlimit_admit(struct conn_limit *cl, struct conn_slot **evict)
{
	struct conn_slot *victim = cl->oldest;

	*evict = NULL;
	/* Evicted connections are on their way out: their places are free. */
	if (cl->open - cl->evicting < cl->max)
		return true;
	if (victim == NULL) {
		cl->refused++;
		return false;
	}
	unlink_waiting(cl, victim);
	victim->evicted = true;
	cl->evicting++;
	cl->evicted++;
	*evict = victim;
	return true;
}

static void link_waiting(struct conn_limit *cl, struct conn_slot *slot)
{
	slot->waiting = true;
	slot->next = NULL;
	slot->prev = cl->newest;
	if (cl->newest)
		cl->newest->next = slot;
	else
		cl->oldest = slot;
	cl->newest = slot;
}

void connlimit_open(struct conn_limit *cl, struct conn_slot *slot, void *handle)
{
	memset(slot, 0, sizeof(*slot));
	slot->handle = handle;
	link_waiting(cl, slot);
	cl->open++;
}

void connlimit_asked(struct conn_limit *cl, struct conn_slot *slot)
{
	if (slot->waiting)
		unlink_waiting(cl, slot);
}

void connlimit_idle(struct conn_limit *cl, struct conn_slot *slot)
{
	if (!slot->waiting && !slot->evicted)
		link_waiting(cl, slot);
}

void connlimit_close(struct conn_limit *cl, struct conn_slot *slot)
{
	if (slot->waiting)
		unlink_waiting(cl, slot);
	if (slot->evicted)
		cl->evicting--;
	cl->open--;
}
