#ifndef SWITCHBACK_CSPAWN_H
#define SWITCHBACK_CSPAWN_H

#include <spawn.h>

/// Adds "close every descriptor from `lowest` up" to `actions` (glibc >= 2.34), so a child gets
/// exactly the descriptors it was given and none the parent happened to have open.
int switchback_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowest);

/// Adds "change to `directory`" to `actions` (glibc >= 2.29).
int switchback_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *directory);

/// A pipe whose two ends are close-on-exec from the start (`pipe2(O_CLOEXEC)`), so no program
/// another thread starts meanwhile inherits them.
int switchback_pipe_cloexec(int ends[2]);

#endif
