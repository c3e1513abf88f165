/*
 * driver: runs one libpurple account headless and reports what the client sees.
 *
 * Part of abch's opt-in real-client test (internal/realclient). It is our own
 * code: it links Debian's libpurple and loads whatever protocol plugins the
 * given directory holds (the test passes the directory of a prebuilt prpl-msn).
 *
 * Usage: driver PLUGINDIR USERDIR ACCOUNT PASSWORD SERVER PORT
 *
 * stdout: one JSON object per line, {"ev": NAME, ...}:
 *   plugin        the prpl-msn plugin that was loaded (path, version)
 *   connecting    connection progress (text, step, count)
 *   signed_on     the account is signed in (display_name)
 *   connection_error / signed_off
 *   buddy         answer to "list" and every change of a buddy (ev "buddy",
 *                 "why" says what changed): name, alias, server_alias, group,
 *                 status, online, message
 *   buddy_removed a buddy left the local list
 *   list_end      end of a "list" answer
 *   im            an IM arrived (from, text, flags, time)
 *   sent_im       an IM was handed to the protocol (to, text)
 *   conv          an error or system line written to a conversation
 *   auth_request  someone added this account (from, alias, message, on_list);
 *                 accepted 1.5 s later
 *   added_notify / request_add  the account UI's other two "you were added" hooks
 *   request       a generic prompt (title, primary, secondary, actions, chose)
 *   input         an input prompt (primary, answer)
 *   notify        a notification (type, title, primary, secondary)
 *   error         a command the driver could not run
 *   bye           the driver is exiting
 * stderr: libpurple's debug log (the plugin's protocol lines "C: NS …" / "S: NS …").
 *
 * stdin, one command a line:
 *   status ID [MESSAGE]   set the account status (available, away, busy, invisible …)
 *   friendly NAME         set the friendly name through the plugin's own action
 *   add WHO [GROUP]       add a buddy (default group "Buddies")
 *   remove WHO            remove a buddy
 *   block WHO / allow WHO deny or permit someone
 *   im WHO TEXT           send an instant message
 *   list                  print every buddy, then list_end
 *   quit                  sign off and exit (EOF does the same)
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <purple.h>

#define UI_ID "abch-realclient"

static GMainLoop *loop;
static PurpleAccount *account;
static char *pending_friendly; /* answer for the next "Set Friendly Name" input prompt */

/* ---- JSON lines ---- */

static GString *line;

static void
json_str(GString *s, const char *v)
{
	const unsigned char *p;

	if (v == NULL) {
		g_string_append(s, "null");
		return;
	}
	g_string_append_c(s, '"');
	for (p = (const unsigned char *)v; *p; p++) {
		switch (*p) {
		case '"': g_string_append(s, "\\\""); break;
		case '\\': g_string_append(s, "\\\\"); break;
		case '\n': g_string_append(s, "\\n"); break;
		case '\r': g_string_append(s, "\\r"); break;
		case '\t': g_string_append(s, "\\t"); break;
		default:
			if (*p < 0x20)
				g_string_append_printf(s, "\\u%04x", *p);
			else
				g_string_append_c(s, *p);
		}
	}
	g_string_append_c(s, '"');
}

static void
ev_begin(const char *ev)
{
	if (line == NULL)
		line = g_string_new(NULL);
	g_string_assign(line, "{\"ev\":");
	json_str(line, ev);
}

static void
ev_str(const char *key, const char *v)
{
	g_string_append_c(line, ',');
	json_str(line, key);
	g_string_append_c(line, ':');
	if (v != NULL && !g_utf8_validate(v, -1, NULL)) {
		char *fixed = g_strescape(v, NULL);
		json_str(line, fixed);
		g_free(fixed);
		return;
	}
	json_str(line, v);
}

static void
ev_int(const char *key, long v)
{
	g_string_append_c(line, ',');
	json_str(line, key);
	g_string_append_printf(line, ":%ld", v);
}

static void
ev_bool(const char *key, gboolean v)
{
	g_string_append_c(line, ',');
	json_str(line, key);
	g_string_append(line, v ? ":true" : ":false");
}

static void
ev_end(void)
{
	g_string_append(line, "}\n");
	fputs(line->str, stdout);
	fflush(stdout);
}

static void
ev_simple(const char *ev, const char *key, const char *v)
{
	ev_begin(ev);
	if (key != NULL)
		ev_str(key, v);
	ev_end();
}

/* ---- event loop on glib ---- */

#define READ_COND  (G_IO_IN | G_IO_HUP | G_IO_ERR)
#define WRITE_COND (G_IO_OUT | G_IO_HUP | G_IO_ERR | G_IO_NVAL)

typedef struct {
	PurpleInputFunction function;
	guint result;
	gpointer data;
} IOClosure;

static gboolean
io_invoke(GIOChannel *source, GIOCondition condition, gpointer data)
{
	IOClosure *closure = data;
	PurpleInputCondition cond = 0;

	if (condition & READ_COND)
		cond |= PURPLE_INPUT_READ;
	if (condition & WRITE_COND)
		cond |= PURPLE_INPUT_WRITE;
	closure->function(closure->data, g_io_channel_unix_get_fd(source), cond);
	return TRUE;
}

static guint
io_add(gint fd, PurpleInputCondition condition, PurpleInputFunction function, gpointer data)
{
	IOClosure *closure = g_new0(IOClosure, 1);
	GIOChannel *channel;
	GIOCondition cond = 0;

	closure->function = function;
	closure->data = data;
	if (condition & PURPLE_INPUT_READ)
		cond |= READ_COND;
	if (condition & PURPLE_INPUT_WRITE)
		cond |= WRITE_COND;
	channel = g_io_channel_unix_new(fd);
	closure->result = g_io_add_watch_full(channel, G_PRIORITY_DEFAULT, cond,
	                                      io_invoke, closure, g_free);
	g_io_channel_unref(channel);
	return closure->result;
}

static PurpleEventLoopUiOps eventloop_ops = {
	.timeout_add = g_timeout_add,
	.timeout_remove = g_source_remove,
	.input_add = io_add,
	.input_remove = g_source_remove,
	.timeout_add_seconds = g_timeout_add_seconds,
};

/* ---- debug log to stderr ---- */

static void
debug_print(PurpleDebugLevel level, const char *category, const char *arg_s)
{
	static const char *names[] = { "all", "misc", "info", "warning", "error", "fatal" };
	const char *name = (level >= 0 && level <= PURPLE_DEBUG_FATAL) ? names[level] : "?";
	GDateTime *now = g_date_time_new_now_utc();
	char *stamp = g_date_time_format(now, "%H:%M:%S.%f");

	fprintf(stderr, "%.12s %s %s: %s", stamp, name, category ? category : "-", arg_s);
	if (arg_s == NULL || arg_s[0] == '\0' || arg_s[strlen(arg_s) - 1] != '\n')
		fputc('\n', stderr);
	fflush(stderr);
	g_free(stamp);
	g_date_time_unref(now);
}

static gboolean
debug_enabled(PurpleDebugLevel level, const char *category)
{
	return TRUE;
}

static PurpleDebugUiOps debug_ops = { .print = debug_print, .is_enabled = debug_enabled };

/* ---- buddies ---- */

static void
emit_buddy(const char *why, PurpleBuddy *b)
{
	PurplePresence *presence = purple_buddy_get_presence(b);
	PurpleStatus *status = presence ? purple_presence_get_active_status(presence) : NULL;
	PurpleGroup *group = purple_buddy_get_group(b);

	if (purple_buddy_get_account(b) != account)
		return;
	ev_begin("buddy");
	ev_str("why", why);
	ev_str("name", purple_buddy_get_name(b));
	ev_str("alias", purple_buddy_get_alias(b));
	ev_str("server_alias", purple_buddy_get_server_alias(b));
	ev_str("group", group ? purple_group_get_name(group) : NULL);
	ev_str("status", status ? purple_status_get_id(status) : NULL);
	ev_bool("online", presence ? purple_presence_is_online(presence) : FALSE);
	ev_str("message", status ? purple_status_get_attr_string(status, "message") : NULL);
	ev_end();
}

static void
list_buddies(void)
{
	GSList *buddies = purple_find_buddies(account, NULL), *l;

	for (l = buddies; l != NULL; l = l->next)
		emit_buddy("list", l->data);
	g_slist_free(buddies);
	ev_begin("list_end");
	ev_end();
}

static void
buddy_status_changed(PurpleBuddy *b, PurpleStatus *old, PurpleStatus *new)
{
	emit_buddy("status", b);
}

static void
buddy_signed_on(PurpleBuddy *b)
{
	emit_buddy("signed_on", b);
}

static void
buddy_signed_off(PurpleBuddy *b)
{
	emit_buddy("signed_off", b);
}

static void
buddy_added(PurpleBuddy *b)
{
	emit_buddy("added", b);
}

static void
buddy_removed(PurpleBuddy *b)
{
	if (purple_buddy_get_account(b) != account)
		return;
	ev_simple("buddy_removed", "name", purple_buddy_get_name(b));
}

static void
node_aliased(PurpleBlistNode *node, const char *old)
{
	if (PURPLE_BLIST_NODE_IS_BUDDY(node))
		emit_buddy("alias", (PurpleBuddy *)node);
}

/* ---- connections and IMs ---- */

static void
signed_on(PurpleConnection *gc)
{
	ev_begin("signed_on");
	ev_str("display_name", purple_connection_get_display_name(gc));
	ev_end();
}

static void
signed_off(PurpleConnection *gc)
{
	ev_begin("signed_off");
	ev_end();
}

static void
connection_error(PurpleConnection *gc, PurpleConnectionError reason, const char *desc)
{
	ev_begin("connection_error");
	ev_int("reason", reason);
	ev_str("text", desc);
	ev_end();
}

static void
connect_progress(PurpleConnection *gc, const char *text, size_t step, size_t step_count)
{
	ev_begin("connecting");
	ev_str("text", text);
	ev_int("step", step);
	ev_int("count", step_count);
	ev_end();
}

static PurpleConnectionUiOps connection_ops = { .connect_progress = connect_progress };

static void
received_im(PurpleAccount *acct, const char *sender, const char *message,
            PurpleConversation *conv, PurpleMessageFlags flags)
{
	ev_begin("im");
	ev_str("from", sender);
	ev_str("text", message);
	ev_int("flags", flags);
	ev_end();
}

static void
sent_im(PurpleAccount *acct, const char *receiver, const char *message)
{
	ev_begin("sent_im");
	ev_str("to", receiver);
	ev_str("text", message);
	ev_end();
}

static void
write_conv(PurpleConversation *conv, const char *name, const char *alias,
           const char *message, PurpleMessageFlags flags, time_t mtime)
{
	if (!(flags & (PURPLE_MESSAGE_ERROR | PURPLE_MESSAGE_SYSTEM)))
		return;
	ev_begin("conv");
	ev_str("with", purple_conversation_get_name(conv));
	ev_str("text", message);
	ev_bool("error", (flags & PURPLE_MESSAGE_ERROR) != 0);
	ev_end();
}

static PurpleConversationUiOps conversation_ops = { .write_conv = write_conv };

/* ---- "you were added" ---- */

/* A person answers an authorization request after a moment, never inside the
 * sign-on: pidgin 2.10.1 mismatches SOAP answers when its accept calls start
 * while the sign-on's address-book call on the same host is unanswered. */
#define AUTHORIZE_DELAY_MS 1500

typedef struct {
	PurpleAccountRequestAuthorizationCb cb;
	void *data;
	guint timer;
} Deferred;

static gboolean
run_deferred(gpointer p)
{
	Deferred *d = p;

	d->cb(d->data);
	g_free(d);
	return FALSE;
}

/* libpurple closes pending requests when the account disconnects. */
static void
close_account_request(void *ui_handle)
{
	Deferred *d = ui_handle;

	g_source_remove(d->timer);
	g_free(d);
}

static void *
request_authorize(PurpleAccount *acct, const char *remote_user, const char *id,
                  const char *alias, const char *message, gboolean on_list,
                  PurpleAccountRequestAuthorizationCb authorize_cb,
                  PurpleAccountRequestAuthorizationCb deny_cb, void *user_data)
{
	Deferred *d = g_new0(Deferred, 1);

	ev_begin("auth_request");
	ev_str("from", remote_user);
	ev_str("alias", alias);
	ev_str("message", message);
	ev_bool("on_list", on_list);
	ev_end();
	d->cb = authorize_cb;
	d->data = user_data;
	d->timer = g_timeout_add(AUTHORIZE_DELAY_MS, run_deferred, d);
	return d;
}

static void
notify_added(PurpleAccount *acct, const char *remote_user, const char *id,
             const char *alias, const char *message)
{
	ev_begin("added_notify");
	ev_str("from", remote_user);
	ev_str("alias", alias);
	ev_end();
}

static void
request_add(PurpleAccount *acct, const char *remote_user, const char *id,
            const char *alias, const char *message)
{
	ev_begin("request_add");
	ev_str("from", remote_user);
	ev_str("alias", alias);
	ev_end();
}

static PurpleAccountUiOps account_ops = {
	.notify_added = notify_added,
	.request_add = request_add,
	.request_authorize = request_authorize,
	.close_account_request = close_account_request,
};

/* ---- prompts ---- */

typedef struct {
	GCallback cb;
	void *data;
	int index;
	char *text;
	gboolean input;
} Answer;

static gboolean
run_answer(gpointer p)
{
	Answer *a = p;

	if (a->cb != NULL) {
		if (a->input)
			((PurpleRequestInputCb)a->cb)(a->data, a->text);
		else
			((PurpleRequestActionCb)a->cb)(a->data, a->index);
	}
	g_free(a->text);
	g_free(a);
	return FALSE;
}

static void *
request_action(const char *title, const char *primary, const char *secondary,
               int default_action, PurpleAccount *acct, const char *who,
               PurpleConversation *conv, void *user_data, size_t action_count,
               va_list actions)
{
	Answer *a = g_new0(Answer, 1);
	GString *labels = g_string_new(NULL);
	gboolean certificate = FALSE;
	int chose = default_action < 0 ? 0 : default_action;
	size_t i;
	GCallback *cbs = g_new0(GCallback, action_count);

	if ((title && strstr(title, "ertificate")) || (primary && strstr(primary, "ertificate")))
		certificate = TRUE;
	for (i = 0; i < action_count; i++) {
		const char *label = va_arg(actions, const char *);
		cbs[i] = va_arg(actions, GCallback);
		if (i > 0)
			g_string_append_c(labels, '|');
		g_string_append(labels, label ? label : "");
		/* Never accept a certificate the client did not verify itself. */
		if (certificate && label && (strstr(label, "Reject") || strstr(label, "Cancel")))
			chose = i;
	}
	if ((size_t)chose >= action_count)
		chose = 0;
	ev_begin("request");
	ev_str("title", title);
	ev_str("primary", primary);
	ev_str("secondary", secondary);
	ev_str("who", who);
	ev_str("actions", labels->str);
	ev_int("chose", chose);
	ev_end();
	g_string_free(labels, TRUE);
	a->cb = action_count > 0 ? cbs[chose] : NULL;
	a->data = user_data;
	a->index = chose;
	g_free(cbs);
	g_idle_add(run_answer, a);
	return a;
}

static void *
request_input(const char *title, const char *primary, const char *secondary,
              const char *default_value, gboolean multiline, gboolean masked,
              gchar *hint, const char *ok_text, GCallback ok_cb,
              const char *cancel_text, GCallback cancel_cb, PurpleAccount *acct,
              const char *who, PurpleConversation *conv, void *user_data)
{
	Answer *a = g_new0(Answer, 1);
	gboolean friendly = pending_friendly != NULL &&
		((title && strstr(title, "riendly")) || (primary && strstr(primary, "riendly")));

	a->input = TRUE;
	a->data = user_data;
	if (friendly) {
		a->cb = ok_cb;
		a->text = pending_friendly;
		pending_friendly = NULL;
	} else {
		a->cb = cancel_cb;
	}
	ev_begin("input");
	ev_str("title", title);
	ev_str("primary", primary);
	ev_str("answer", a->text);
	ev_end();
	g_idle_add(run_answer, a);
	return a;
}

static void *
request_fields(const char *title, const char *primary, const char *secondary,
               PurpleRequestFields *fields, const char *ok_text, GCallback ok_cb,
               const char *cancel_text, GCallback cancel_cb, PurpleAccount *acct,
               const char *who, PurpleConversation *conv, void *user_data)
{
	ev_begin("request");
	ev_str("title", title);
	ev_str("primary", primary);
	ev_str("secondary", secondary);
	ev_str("actions", "fields");
	ev_int("chose", -1);
	ev_end();
	if (cancel_cb != NULL)
		((PurpleRequestFieldsCb)cancel_cb)(user_data, fields);
	return NULL;
}

static void
close_request(PurpleRequestType type, void *ui_handle)
{
}

static PurpleRequestUiOps request_ops = {
	.request_input = request_input,
	.request_action = request_action,
	.request_fields = request_fields,
	.close_request = close_request,
};

/* ---- notifications ---- */

static void *
notify_message(PurpleNotifyMsgType type, const char *title, const char *primary,
               const char *secondary)
{
	static const char *types[] = { "error", "warning", "info" };

	ev_begin("notify");
	ev_str("type", type <= PURPLE_NOTIFY_MSG_INFO ? types[type] : "?");
	ev_str("title", title);
	ev_str("primary", primary);
	ev_str("secondary", secondary);
	ev_end();
	return NULL;
}

static void *
notify_emails(PurpleConnection *gc, size_t count, gboolean detailed,
              const char **subjects, const char **froms, const char **tos,
              const char **urls)
{
	ev_begin("notify");
	ev_str("type", "emails");
	ev_int("count", count);
	ev_end();
	return NULL;
}

static void *
notify_formatted(const char *title, const char *primary, const char *secondary,
                 const char *text)
{
	return notify_message(PURPLE_NOTIFY_MSG_INFO, title, primary, text);
}

static void
close_notify(PurpleNotifyType type, void *ui_handle)
{
}

static PurpleNotifyUiOps notify_ops = {
	.notify_message = notify_message,
	.notify_emails = notify_emails,
	.notify_formatted = notify_formatted,
	.close_notify = close_notify,
};

/* ---- commands on stdin ---- */

static PurpleConnection *
connection(void)
{
	PurpleConnection *gc = purple_account_get_connection(account);

	if (gc == NULL || !PURPLE_CONNECTION_IS_CONNECTED(gc)) {
		ev_simple("error", "text", "not signed in");
		return NULL;
	}
	return gc;
}

static void
cmd_friendly(const char *name)
{
	PurpleConnection *gc = connection();
	PurplePlugin *prpl;
	GList *actions, *l;
	gboolean done = FALSE;

	if (gc == NULL)
		return;
	prpl = purple_connection_get_prpl(gc);
	if (!PURPLE_PLUGIN_HAS_ACTIONS(prpl)) {
		ev_simple("error", "text", "the protocol has no actions");
		return;
	}
	actions = PURPLE_PLUGIN_ACTIONS(prpl, gc);
	for (l = actions; l != NULL; l = l->next) {
		PurplePluginAction *act = l->data;
		if (act != NULL && !done && act->label && strstr(act->label, "Friendly Name")) {
			act->plugin = prpl;
			act->context = gc;
			g_free(pending_friendly);
			pending_friendly = g_strdup(name);
			act->callback(act);
			done = TRUE;
		}
	}
	for (l = actions; l != NULL; l = l->next)
		if (l->data != NULL)
			purple_plugin_action_free(l->data);
	g_list_free(actions);
	if (!done)
		ev_simple("error", "text", "no Set Friendly Name action");
}

static void
cmd_add(const char *who, const char *groupname)
{
	PurpleGroup *group;
	PurpleBuddy *buddy;

	if (connection() == NULL)
		return;
	if (groupname == NULL || *groupname == '\0')
		groupname = "Buddies";
	group = purple_find_group(groupname);
	if (group == NULL) {
		group = purple_group_new(groupname);
		purple_blist_add_group(group, NULL);
	}
	buddy = purple_find_buddy_in_group(account, who, group);
	if (buddy == NULL) {
		buddy = purple_buddy_new(account, who, NULL);
		purple_blist_add_buddy(buddy, NULL, group, NULL);
	}
	purple_account_add_buddy(account, buddy);
}

static void
cmd_remove(const char *who)
{
	PurpleBuddy *buddy;

	if (connection() == NULL)
		return;
	buddy = purple_find_buddy(account, who);
	if (buddy == NULL) {
		ev_simple("error", "text", "no such buddy");
		return;
	}
	purple_account_remove_buddy(account, buddy, purple_buddy_get_group(buddy));
	purple_blist_remove_buddy(buddy);
}

static void
cmd_im(const char *who, const char *text)
{
	PurpleConversation *conv;

	if (connection() == NULL)
		return;
	conv = purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, who, account);
	if (conv == NULL)
		conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, who);
	purple_conv_im_send(PURPLE_CONV_IM(conv), text);
}

static void
cmd_status(const char *id, const char *message)
{
	if (purple_account_get_status_type(account, id) == NULL) {
		ev_simple("error", "text", "unknown status id");
		return;
	}
	if (message != NULL)
		purple_account_set_status(account, id, TRUE, "message", message, NULL);
	else
		purple_account_set_status(account, id, TRUE, NULL);
}

static gboolean
quit_loop(gpointer data)
{
	g_main_loop_quit(loop);
	return FALSE;
}

static void
cmd_quit(void)
{
	purple_account_set_enabled(account, UI_ID, FALSE);
	/* Give the plugin a moment to write its OUT before the process ends. */
	g_timeout_add(300, quit_loop, NULL);
}

static void
run_command(char *text)
{
	char **argv = g_strsplit(g_strstrip(text), " ", 3);
	const char *cmd = argv[0] ? argv[0] : "";
	const char *a1 = argv[0] && argv[1] ? argv[1] : NULL;
	const char *a2 = a1 && argv[2] ? argv[2] : NULL;

	if (strcmp(cmd, "") == 0) {
		/* blank line */
	} else if (strcmp(cmd, "quit") == 0) {
		cmd_quit();
	} else if (strcmp(cmd, "list") == 0) {
		list_buddies();
	} else if (strcmp(cmd, "status") == 0 && a1) {
		cmd_status(a1, a2);
	} else if (strcmp(cmd, "friendly") == 0 && a1) {
		char *name = a2 ? g_strconcat(a1, " ", a2, NULL) : g_strdup(a1);
		cmd_friendly(name);
		g_free(name);
	} else if (strcmp(cmd, "add") == 0 && a1) {
		cmd_add(a1, a2);
	} else if (strcmp(cmd, "remove") == 0 && a1) {
		cmd_remove(a1);
	} else if (strcmp(cmd, "block") == 0 && a1) {
		purple_privacy_deny(account, a1, FALSE, FALSE);
	} else if (strcmp(cmd, "allow") == 0 && a1) {
		purple_privacy_allow(account, a1, FALSE, FALSE);
	} else if (strcmp(cmd, "im") == 0 && a1 && a2) {
		cmd_im(a1, a2);
	} else {
		ev_simple("error", "text", "unknown command");
	}
	g_strfreev(argv);
}

static gboolean
stdin_ready(GIOChannel *ch, GIOCondition cond, gpointer data)
{
	char *text = NULL;
	gsize len = 0;
	GIOStatus st = g_io_channel_read_line(ch, &text, &len, NULL, NULL);

	if (st == G_IO_STATUS_NORMAL && text != NULL) {
		run_command(text);
		g_free(text);
		return TRUE;
	}
	g_free(text);
	if (st == G_IO_STATUS_AGAIN)
		return TRUE;
	cmd_quit();
	return FALSE;
}

/* ---- main ---- */

static void
ui_init(void)
{
	purple_connections_set_ui_ops(&connection_ops);
	purple_conversations_set_ui_ops(&conversation_ops);
	purple_accounts_set_ui_ops(&account_ops);
	purple_request_set_ui_ops(&request_ops);
	purple_notify_set_ui_ops(&notify_ops);
}

static void
debug_ui_init(void)
{
	purple_debug_set_ui_ops(&debug_ops);
}

static PurpleCoreUiOps core_ops = { .debug_ui_init = debug_ui_init, .ui_init = ui_init };

int
main(int argc, char **argv)
{
	PurplePlugin *prpl;
	PurpleSavedStatus *saved;
	GIOChannel *in;
	static int handle;

	if (argc != 7) {
		fprintf(stderr, "usage: %s PLUGINDIR USERDIR ACCOUNT PASSWORD SERVER PORT\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	loop = g_main_loop_new(NULL, FALSE);

	purple_util_set_user_dir(argv[2]);
	purple_plugins_add_search_path(argv[1]);
	purple_core_set_ui_ops(&core_ops);
	purple_eventloop_set_ui_ops(&eventloop_ops);
	if (!purple_core_init(UI_ID)) {
		ev_simple("fatal", "text", "libpurple initialization failed");
		return 1;
	}
	purple_set_blist(purple_blist_new());
	purple_blist_load();
	purple_prefs_load();
	purple_prefs_set_bool("/purple/logging/log_ims", FALSE);
	purple_prefs_set_bool("/purple/logging/log_system", FALSE);

	prpl = purple_find_prpl("prpl-msn");
	if (prpl == NULL) {
		ev_simple("fatal", "text", "prpl-msn not found in the plugin directory");
		return 1;
	}
	ev_begin("plugin");
	ev_str("path", prpl->path);
	ev_str("version", purple_plugin_get_version(prpl));
	ev_end();

	purple_signal_connect(purple_blist_get_handle(), "buddy-status-changed", &handle,
	                      PURPLE_CALLBACK(buddy_status_changed), NULL);
	purple_signal_connect(purple_blist_get_handle(), "buddy-signed-on", &handle,
	                      PURPLE_CALLBACK(buddy_signed_on), NULL);
	purple_signal_connect(purple_blist_get_handle(), "buddy-signed-off", &handle,
	                      PURPLE_CALLBACK(buddy_signed_off), NULL);
	purple_signal_connect(purple_blist_get_handle(), "buddy-added", &handle,
	                      PURPLE_CALLBACK(buddy_added), NULL);
	purple_signal_connect(purple_blist_get_handle(), "buddy-removed", &handle,
	                      PURPLE_CALLBACK(buddy_removed), NULL);
	purple_signal_connect(purple_blist_get_handle(), "blist-node-aliased", &handle,
	                      PURPLE_CALLBACK(node_aliased), NULL);
	purple_signal_connect(purple_connections_get_handle(), "signed-on", &handle,
	                      PURPLE_CALLBACK(signed_on), NULL);
	purple_signal_connect(purple_connections_get_handle(), "signed-off", &handle,
	                      PURPLE_CALLBACK(signed_off), NULL);
	purple_signal_connect(purple_connections_get_handle(), "connection-error", &handle,
	                      PURPLE_CALLBACK(connection_error), NULL);
	purple_signal_connect(purple_conversations_get_handle(), "received-im-msg", &handle,
	                      PURPLE_CALLBACK(received_im), NULL);
	purple_signal_connect(purple_conversations_get_handle(), "sent-im-msg", &handle,
	                      PURPLE_CALLBACK(sent_im), NULL);

	account = purple_accounts_find(argv[3], "prpl-msn");
	if (account == NULL) {
		account = purple_account_new(argv[3], "prpl-msn");
		purple_accounts_add(account);
	}
	purple_account_set_password(account, argv[4]);
	purple_account_set_remember_password(account, FALSE);
	purple_account_set_string(account, "server", argv[5]);
	purple_account_set_int(account, "port", atoi(argv[6]));
	purple_account_set_bool(account, "http_method", FALSE);
	purple_account_set_enabled(account, UI_ID, TRUE);

	saved = purple_savedstatus_new(NULL, PURPLE_STATUS_AVAILABLE);
	purple_savedstatus_activate(saved);

	in = g_io_channel_unix_new(STDIN_FILENO);
	g_io_add_watch(in, G_IO_IN | G_IO_HUP | G_IO_ERR, stdin_ready, NULL);

	g_main_loop_run(loop);
	ev_simple("bye", NULL, NULL);
	return 0;
}
