/*
 * config.c - the repository's own configuration file (index.git/config):
 * where a registry keeps its remotes, as git does, so that git itself
 * reads them. Only the repository's level is read or written, never the
 * user's or the system's.
 */
#include "gitstore/internal.h"

#include <ctype.h>
#include <string.h>
#include <sys/stat.h>

#include "banned.h"

static int local_config(git_config **out, struct mlctl_git *g, struct mlctl_err *err)
{
	git_config *all = NULL;
	int rc;

	*out = NULL;
	rc = git_repository_config(&all, g->repo);
	if (rc >= 0)
		rc = git_config_open_level(out, all, GIT_CONFIG_LEVEL_LOCAL);
	git_config_free(all);
	if (rc < 0)
		return gs_git_fail(err, MLCTL_EIO, "cannot read the registry's git configuration");
	return 0;
}

int mlctl_git_config_get(struct mlctl_git *g, char **out, const char *key, struct mlctl_err *err)
{
	git_config *cfg;
	git_buf buf = { 0 };
	int rc;

	if ((rc = gs_ready(g, err)))
		return rc;

	*out = NULL;
	if ((rc = local_config(&cfg, g, err)))
		return rc;
	rc = git_config_get_string_buf(&buf, cfg, key);
	if (rc == GIT_ENOTFOUND) {
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND, "'%s' is not set", key);
	} else if (rc < 0) {
		rc = gs_git_fail(err, MLCTL_EIO, "cannot read the registry's git configuration");
	} else {
		*out = mlctl_strdup(buf.ptr);
		rc = 0;
	}
	git_buf_dispose(&buf);
	git_config_free(cfg);
	return rc;
}

int mlctl_git_config_set(struct mlctl_git *g, const char *key, const char *value,
			 struct mlctl_err *err)
{
	git_config *cfg;
	int rc;

	if ((rc = gs_ready(g, err)))
		return rc;

	if ((rc = local_config(&cfg, g, err)))
		return rc;
	if (value)
		rc = git_config_set_string(cfg, key, value);
	else if ((rc = git_config_delete_entry(cfg, key)) == GIT_ENOTFOUND)
		rc = 0;
	if (rc < 0)
		rc = gs_git_fail(err, MLCTL_EIO, "cannot write the registry's git configuration");
	git_config_free(cfg);
	return rc < 0 ? rc : 0;
}

int mlctl_git_config_each(struct mlctl_git *g, const char *prefix, mlctl_git_config_cb cb,
			  void *payload, struct mlctl_err *err)
{
	git_config *cfg;
	git_config_iterator *it = NULL;
	git_config_entry *e;
	int rc;

	if ((rc = gs_ready(g, err)))
		return rc;

	if ((rc = local_config(&cfg, g, err)))
		return rc;
	/* not git_config_iterator_glob_new: libgit2 1.5 leaks its regex match data */
	if (git_config_iterator_new(&it, cfg) < 0) {
		rc = gs_git_fail(err, MLCTL_EIO, "cannot read the registry's git configuration");
		goto out;
	}
	while ((rc = git_config_next(&e, it)) == 0) {
		if (strncmp(e->name, prefix, strlen(prefix)))
			continue;
		if ((rc = cb(payload, e->name, e->value, err)))
			goto out;
	}
	rc = rc == GIT_ITEROVER ? 0 : gs_git_fail(err, MLCTL_EIO,
						   "cannot read the registry's git configuration");
out:
	git_config_iterator_free(it);
	git_config_free(cfg);
	return rc;
}

/* The end of the line at p (its newline, or end), and where the next line starts. */
static const char *line_end(const char *p, const char *end, const char **next)
{
	const char *eol = memchr(p, '\n', (size_t)(end - p));

	*next = eol ? eol + 1 : end;
	return eol ? eol : end;
}

/* Past the blanks at the start of a line. */
static const char *skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* 1 when a line (p to eol) is blank or a comment. */
static int line_is_empty(const char *p, const char *eol)
{
	while (p < eol && isspace((unsigned char)*p))
		p++;
	return p == eol || *p == '#' || *p == ';';
}

int mlctl_git_config_drop_section(struct mlctl_git *g, const char *section, const char *sub,
				  struct mlctl_err *err)
{
	char *path, *header;
	size_t hn;
	struct mlctl_buf in = MLCTL_BUF_INIT, out = MLCTL_BUF_INIT;
	const char *p, *end, *next;
	int rc, dropped = 0;
	struct stat st;

	if ((rc = gs_ready(g, err)))
		return rc;
	path = mlctl_path_join(git_repository_path(g->repo), "config");
	header = mlctl_aprintf("[%s \"%s\"]", section, sub);
	hn = strlen(header);
	if ((rc = mlctl_read_file(&in, path, 16 * 1024 * 1024, err)))
		goto done;
	end = in.buf + in.len;
	for (p = in.buf; p < end; p = next) {
		const char *eol = line_end(p, end, &next), *q = skip_blanks(p, eol);

		if ((size_t)(eol - q) >= hn && !memcmp(q, header, hn) && line_is_empty(q + hn, eol)) {
			/* the header asked for: dropped when only blanks and comments follow it */
			const char *r = next, *rn;

			while (r < end && line_is_empty(r, line_end(r, end, &rn)))
				r = rn;
			if (r == end || *skip_blanks(r, end) == '[') {
				dropped = 1;
				continue;
			}
		}
		mlctl_buf_add(&out, p, (size_t)(next - p));
	}
	if (dropped) {
		mode_t mode = stat(path, &st) == 0 ? (st.st_mode & 07777) : 0644;

		rc = mlctl_write_file_atomic(path, out.buf ? out.buf : "", out.len, mode, err);
	}
done:
	mlctl_buf_release(&in);
	mlctl_buf_release(&out);
	free(header);
	free(path);
	return rc;
}
