// The GNU extensions (two spawn actions and pipe2) that Swift's Glibc module does not show (they are
// declared only under _GNU_SOURCE).
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>
#include "CSpawn.h"

int switchback_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

int switchback_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *directory) {
    return posix_spawn_file_actions_addchdir_np(actions, directory);
}

int switchback_pipe_cloexec(int ends[2]) {
    return pipe2(ends, O_CLOEXEC);
}
