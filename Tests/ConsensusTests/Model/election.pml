/*
 * Vote, commit and lease of Sources/Consensus as a Promela model (issue 11), checked by spin
 * from ModelCheckTests.swift. Three voters: A (agent of site a, active in epoch 0), B (agent of
 * site b) and W (witness, stands for site b). Epochs up to MAXE, time up to T ticks.
 *
 * The network is a set of sent messages that stay deliverable (vote and commit requests,
 * votes): any message may arrive late, never, several times, in any order, or (a vote) at
 * another candidate, which is the nemesis of the issue. Each step is one atomic action of one
 * agent, like one `Election.handle` call.
 *
 * Lease durations differ (a rolling change): A and W run 2 ticks, B still 1.
 *
 * Fixes, each on unless its switch is given (-DBUG1, -DBUG2, -DBUG3 bring the bug back):
 *   FIX1  leases carry their duration: a voter grants min(asked, own), the holder serves for
 *         the duration a majority granted, a candidate waits the voters' reports unclamped;
 *   FIX2  a voter that stored a newer configuration never renews an older epoch's lease;
 *   FIX3  votes count only for the candidate they name; a commit in the voter's own epoch is
 *         taken only from the candidate it voted for.
 * Safety (assertions, checked in every state):
 *   - at most one leader per epoch;
 *   - never A and B serving at the same time.
 */
#define N     3
#define A     0
#define B     1
#define W     2
#define NONE  3
#define MAXE  2
#define T     5
#define MAJ   2

#define IDLE    0
#define COLLECT 1
#define WAIT    2
#define COMMIT  3

#define L(v)        ((v) == B -> 1 : 2)
#define SITE(c)     ((c) == A -> A : B)
#define IX(e, v)    ((e) * N + (v))
#define MIN(x, y)   ((x) < (y) -> (x) : (y))
#define MAX(x, y)   ((x) > (y) -> (x) : (y))

byte now;
byte cur[N], voted[N], accE[N], accC[N], comE[N], comC[N], gu[N], phase[N], waitU[N];
byte valid[N], validE[N];
byte voteFor[(MAXE + 1) * N], voteUntil[(MAXE + 1) * N], voteAt[(MAXE + 1) * N];
bool voteReq[(MAXE + 1) * N], commitReq[(MAXE + 1) * N];
byte leaderOf[MAXE + 1];

/* A voter's move past its committed epoch was only its own failed candidacy. */
#define ABANDONED(v) (cur[v] > comE[v] && voted[v] == v && phase[v] == IDLE && accE[v] != cur[v])
/* The holder h (A or B) may hold a lease: its own site is active in its committed config. */
#define HOLDS(h)     (SITE(comC[h]) == h && (cur[h] == comE[h] || ABANDONED(h)))
#define SERVING(h)   (HOLDS(h) && validE[h] == comE[h] && now < valid[h])

#ifdef BUG1
#define GRANT(v, h)  L(v)
#else
#define GRANT(v, h)  MIN(L(h), L(v))
#endif

#ifdef BUG2
#define NEWER_ACCEPTED(v, h) false
#else
#define NEWER_ACCEPTED(v, h) (accE[v] > comE[h])
#endif
#define MAY_GRANT(v, h) (comE[v] == comE[h] && comC[v] == comC[h] && (cur[v] == comE[h] || ABANDONED(v)) && !NEWER_ACCEPTED(v, h))

#ifdef BUG3
#define COUNTS(e, v, c)      (voteFor[IX(e, v)] != NONE)
#define COMMIT_FROM(v, e, c) (e > cur[v] || e == cur[v])
#else
#define COUNTS(e, v, c)      (voteFor[IX(e, v)] == c)
#define COMMIT_FROM(v, e, c) (e > cur[v] || (e == cur[v] && voted[v] == c))
#endif

#ifdef BUG1
#define REPORTED(e, v, c)    MIN(voteUntil[IX(e, v)], voteAt[IX(e, v)] + L(c))
#else
#define REPORTED(e, v, c)    voteUntil[IX(e, v)]
#endif

inline adopt(who, epoch, leader) {
    comE[who] = epoch; comC[who] = leader;
    if :: epoch > cur[who] -> cur[who] = epoch; voted[who] = NONE :: else -> skip fi;
    if :: accE[who] <= epoch -> accE[who] = 0 :: else -> skip fi;
    phase[who] = IDLE
}

byte v, c, e, x, n, d1, d2, until;

active proctype election() {
    byte i;
    for (i : 0 .. (MAXE + 1) * N - 1) { voteFor[i] = NONE }
    for (i : 0 .. MAXE) { leaderOf[i] = NONE }
    for (i : 0 .. N - 1) { voted[i] = NONE }
    do
    :: atomic { now < T -> now++ }
    /* c stands as candidate in the next epoch and votes for itself. */
    :: atomic { select(c : 0 .. N - 1);
        if
        :: phase[c] == IDLE && cur[c] < MAXE ->
            cur[c]++; voted[c] = c; phase[c] = COLLECT;
            voteFor[IX(cur[c], c)] = c; voteUntil[IX(cur[c], c)] = gu[c]; voteAt[IX(cur[c], c)] = now;
            voteReq[IX(cur[c], c)] = true
        :: else -> skip
        fi }
    /* v grants c's vote request in e: one vote per epoch, only for a newer epoch. */
    :: atomic { select(v : 0 .. N - 1); select(c : 0 .. N - 1); select(e : 1 .. MAXE);
        if
        :: voteReq[IX(e, c)] && v != c && e > cur[v] ->
            cur[v] = e; voted[v] = c; phase[v] = IDLE;
            voteFor[IX(e, v)] = c; voteUntil[IX(e, v)] = gu[v]; voteAt[IX(e, v)] = now
        :: else -> skip
        fi }
    /* c has a majority of votes: leader of its epoch; waits out the longest reported lease. */
    :: atomic { select(c : 0 .. N - 1); true ->
        e = cur[c]; n = 0; until = now;
        for (x : 0 .. N - 1) {
            if :: COUNTS(e, x, c) -> n++; until = MAX(until, REPORTED(e, x, c)) :: else -> skip fi
        }
        if
        :: n >= MAJ && phase[c] == COLLECT ->
            assert(leaderOf[e] == NONE || leaderOf[e] == c);
            leaderOf[e] = c; waitU[c] = until; phase[c] = WAIT
        :: else -> skip
        fi }
    /* The lease wait is over: the leader stores its proposal and asks the voters to. */
    :: atomic { select(c : 0 .. N - 1);
        if
        :: phase[c] == WAIT && now >= waitU[c] ->
            phase[c] = COMMIT; accE[c] = cur[c]; accC[c] = c; commitReq[IX(cur[c], c)] = true
        :: else -> skip
        fi }
    /* A candidacy times out (at any moment: an over-approximation). */
    :: atomic { select(c : 0 .. N - 1);
        if :: phase[c] == COLLECT || phase[c] == COMMIT -> phase[c] = IDLE :: else -> skip fi }
    /* v stores c's commit request of epoch e. */
    :: atomic { select(v : 0 .. N - 1); select(c : 0 .. N - 1); select(e : 1 .. MAXE);
        if
        :: commitReq[IX(e, c)] && v != c && e > comE[v] && COMMIT_FROM(v, e, c) ->
            if :: e > cur[v] -> cur[v] = e; voted[v] = c :: else -> skip fi;
            accE[v] = e; accC[v] = c; phase[v] = IDLE
        :: else -> skip
        fi }
    /* A majority stored it: the leader commits. */
    :: atomic { select(c : 0 .. N - 1); true ->
        n = 0;
        for (x : 0 .. N - 1) { if :: accE[x] == cur[c] && accC[x] == c -> n++ :: else -> skip fi }
        if :: n >= MAJ && phase[c] == COMMIT -> e = cur[c]; x = c; adopt(x, e, c) :: else -> skip fi }
    /* v adopts (e, c) on evidence: a majority stored or committed it. */
    :: atomic { select(v : 0 .. N - 1); select(c : 0 .. N - 1); select(e : 1 .. MAXE);
        n = 0;
        for (x : 0 .. N - 1) {
            if :: (accE[x] == e && accC[x] == c) || (comE[x] == e && comC[x] == c) -> n++ :: else -> skip fi
        }
        if :: n >= MAJ && e > comE[v] -> adopt(v, e, c) :: else -> skip fi }
    /* A lease round of holder v: each other voter may grant (or the message is lost). */
    :: atomic { select(v : A .. B); true ->
        if :: !HOLDS(v) -> goto done :: else -> skip fi;
        gu[v] = MAX(gu[v], now + L(v));
        x = (v + 1) % N; c = (v + 2) % N; d1 = 0; d2 = 0;
        if :: MAY_GRANT(x, v) -> d1 = GRANT(x, v); gu[x] = MAX(gu[x], now + d1) :: true -> skip fi;
        if :: MAY_GRANT(c, v) -> d2 = GRANT(c, v); gu[c] = MAX(gu[c], now + d2) :: true -> skip fi;
        if
        :: d1 > 0 || d2 > 0 ->
#ifdef BUG1
            until = now + L(v);
#else
            /* the majority-th (second) longest of {own, d1, d2} */
            until = now + MAX(MIN(L(v), MAX(d1, d2)), MIN(d1, d2));
#endif
            if
            :: validE[v] != comE[v] -> validE[v] = comE[v]; valid[v] = until
            :: else -> valid[v] = MAX(valid[v], until)
            fi
        :: else -> skip
        fi;
        done: skip }
    od
}

/* Checked in every state of the system. */
active proctype safety() {
end:
    do
    :: atomic { SERVING(A) && SERVING(B) -> assert(false) }
    od
}
