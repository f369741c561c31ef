/*
 * The site election of Sources/Consensus (vote, commit, lease) as a Promela model, checked
 * exhaustively by spin from Tests/ConsensusTests/ElectionModelTests.swift (issue 11).
 * Models/README.md says how to run it by hand, what is modelled and what is not.
 *
 * Agents: A (agent of site a, active in the initial configuration of epoch 0), B (agent of
 * site b) and W (the witness, no site). Majority: 2 of 3. Epochs 0 .. MAXE.
 *
 * One step of the model is one atomic event at one agent, like one `Election.handle` call.
 *
 * The network: vote requests, commit requests and commit acknowledgements are kept as the set
 * of messages sent, each deliverable at any later time, any number of times, in any order, or
 * never; a commit acknowledgement reaches any leader of its epoch (it names only the epoch, as
 * `CommitAck` does). A vote reaches its candidate at once or never (later it would only make
 * the candidate wait longer), and a copy may reach the third agent (replayed or misdirected,
 * issue 11 item 3). A lease request is answered by each voter at once or never (a later
 * answer only ends that voter's grant later; see README).
 *
 * Time: one discrete clock (`tick`), and clock drift as an adversary: every interval an agent
 * measures on its own clock (a lease it holds or grants, the lease remaining it reports, the
 * wait it waits out) may be off by up to DRIFT ticks, and the model always takes the error in
 * the direction that endangers safety: the holder serves DRIFT longer, a voter's grant ends
 * and its report is DRIFT shorter, a candidate's wait is DRIFT shorter. Each error only lets
 * something happen earlier or last longer, so every behaviour with smaller errors is included.
 * Every instant is kept as "ticks from now", counted down on each tick and floored at 0
 * ("passed"), so the state space is finite without a time horizon.
 *
 * Lease settings differ between agents, as in a rolling change (issue 11 item 1): A and W run
 * LONG ticks, B still SHORT. The margin (leaseSafetyMargin) is MARGIN ticks: three clocks take
 * part in a lease hand-over (holder, voter, new leader), each may be off by DRIFT.
 *
 * Each fix of issue 11 is on unless its switch reverts it:
 *   -DREVERT_LEASE_DURATION  item 1: a lease request carries no duration and a grant reports
 *                            none; each voter grants its own length, the holder serves for its
 *                            own length, and a candidate clamps what voters report to its own.
 *   -DREVERT_STALE_RENEW     item 2: a voter whose own candidacy failed renews the old epoch's
 *                            lease even though it stored a newer configuration for a leader.
 *   -DREVERT_VOTE_BINDING    item 3: a vote counts for any candidate of its epoch (it does not
 *                            name its candidate), and a voter stores a commit of its own epoch
 *                            from any peer, not only from the candidate it voted for.
 *
 * Two rules are stricter here than in Sources/Consensus today, because the model found that
 * without them two sites serve at once even with all three fixes (see Models/README.md);
 * -DSWIFT_TODAY takes both out, to show that counterexample (-DWITHOUT_HOLDER_RULE and
 * -DWITHOUT_VOTE_RULE take out one each):
 *   - the lease holder's own grant obeys item 2's rule too (no renewal after storing a newer
 *     configuration): startLeaseRound does not check acceptedNewer for the holder itself;
 *   - abandonedOwnElection is false for an agent that voted for another candidate in an epoch
 *     past its committed one: that candidate waited out this agent's grants once and may
 *     still commit (its commit request arriving late at a voter of the old epoch).
 *
 * Safety (assertions: one violated in any reachable state is a counterexample):
 *   1. never A and B serving active at the same global time (`monitor`);
 *   2. never two different configurations committed in one epoch (`COMMITTED`);
 *   3. an agent's current and committed epochs never go backwards (`SET_CUR`, `SET_COM`).
 */

#define N       3
#define A       0
#define B       1
#define W       2
#define NONE    3     /* votedFor: nobody */

#define NOSITE  0
#define SA      1     /* site a, A's */
#define SB      2     /* site b, B's */

#ifndef MAXE
#define MAXE    2
#endif
#define MAJ     2

#ifndef LONG
#define LONG    6
#endif
#ifndef SHORT
#define SHORT   4
#endif
#ifndef DRIFT
#define DRIFT   1
#endif
#ifndef MARGIN
#define MARGIN  (3 * DRIFT)
#endif
/* a - b, floored at 0 */
#define SUB(a, b)     ((a) > (b) -> (a) - (b) : 0)
/* ElectionPolicy.leaseDuration of each agent. */
#define L(i)    ((i) == B -> SHORT : LONG)

/* Candidacy.Phase, and IDLE for no candidacy. */
#define IDLE    0
#define COLLECT 1
#define WAIT    2
#define COMMIT  3

#define BIT(i)        (1 << (i))
#define HAS(m, i)     (((m) & BIT(i)) != 0)
#define COUNT(m)      (HAS(m, 0) + HAS(m, 1) + HAS(m, 2))
#define MIN(x, y)     ((x) < (y) -> (x) : (y))
#define MAX(x, y)     ((x) > (y) -> (x) : (y))
#define IX(e, i)      ((e) * N + (i))
/* The site of agent i (the witness has none). */
#define SITE(i)       ((i) == A -> SA : ((i) == B -> SB : NOSITE))

/* Names for the printed trail: AG(i) of agent i, ST(s) of site s. */
mtype = { dc_a, dc_b, witness };
mtype = { site_a, site_b };
#define AG(i)         (3 - (i))
#define ST(s)         (6 - (s))

/* ---- Durable (ElectionState) ---- */
byte cur[N];            /* currentEpoch */
byte voted[N];          /* votedFor in cur */
byte comE[N], comS[N];  /* committed: epoch and active site */
byte accE[N], accS[N];  /* accepted: a leader's configuration stored here (accE 0: none) */
byte vo[N];             /* the newest epoch in which it voted for another candidate (see ABANDONED) */

/* ---- In memory ---- */
byte phase[N];          /* candidacy phase */
byte prop[N];           /* the candidacy's proposal: active site (its epoch is cur) */
byte until[N];          /* COLLECT: latest lease end the votes report; WAIT: end of the wait */
byte gu[N];             /* grantedUntil: the latest end of a lease this voter granted */
byte leaseE[2];         /* HolderLease of A and B: its epoch + 1 (0: none) */
byte valid[2];          /*   and validUntil */

/* ---- Network: messages sent (see above) ---- */
byte vreq[MAXE + 1];        /* VoteRequest: the candidates that asked in epoch e */
byte creq[(MAXE + 1) * N];  /* CommitRequest of leader c in e: the proposal's site */
byte cack[MAXE + 1];        /* CommitAck(accepted) of epoch e: the voters that sent one */

/* ---- History ---- */
byte stored[(MAXE + 1) * 2];  /* the agents that ever stored (e, s), at [e * 2 + s - 1] */
byte cm[MAXE + 1];            /* the sites committed in e */

/* Scratch, not part of the state. */
hidden byte i, v, c, e, s, d, old;
hidden int clock;             /* global time, only for the printed trail */

/* ---- The three fixes, and what reverting each brings back ---- */
#ifdef REVERT_LEASE_DURATION
/* Each voter grants its own lease length; the holder serves for its own length from its
 * request; a candidate clamps a reported lease to its own length. */
#define GRANTED(h, v)       L(v)
#define HOLDS_FOR(h, d)     L(h)
#define REPORTED(c, d)      MIN(d, L(c))
#else
/* onLeaseRequest: the shorter of what was asked and the voter's own setting. */
#define GRANTED(h, v)       MIN(L(h), L(v))
/* HolderLease.acknowledge: the longest duration a majority granted, the holder's own grant
 * (L(h)) included; every grant is at most L(h), so that is the other voter's grant. */
#define HOLDS_FOR(h, d)     MIN(d, L(h))
/* onVoteResponse: a report is waited out in full (clamped only to longestLease). */
#define REPORTED(c, d)      (d)
#endif

#ifdef REVERT_STALE_RENEW
#define STORED_NEWER(v)     false
#else
/* acceptedNewer(than:): it stored a leader's configuration newer than the lease's epoch. */
#define STORED_NEWER(v)     (accE[v] > comE[v])
#endif

#ifdef REVERT_VOTE_BINDING
/* A granted vote counts for whoever receives it (see the vote step); a commit of the voter's
 * epoch from anyone. */
#define COMMIT_FROM(v, e, c) (e >= cur[v])
#else
/* onVoteResponse: VoteResponse.candidate must name this candidate (see the vote step). */
/* onCommitRequest, fromItsLeader: a newer epoch from whoever leads it, the voter's own epoch
 * only from the candidate it voted for. */
#define COMMIT_FROM(v, e, c) (e > cur[v] || (e == cur[v] && voted[v] == (c)))
#endif

/* Election+Lease.swift, abandonedOwnElection: the agent's move past its committed epoch was
 * only its own candidacy, no longer running and never at the commit phase. Swift looks only
 * at the current epoch's vote; this model (unless SWIFT_TODAY) also requires that the agent
 * voted for no other candidate in an epoch past its committed one (vo): that candidate
 * counted on this agent's last grant for the old epoch being final, and can still commit. */
#ifdef SWIFT_TODAY
#define WITHOUT_HOLDER_RULE
#define WITHOUT_VOTE_RULE
#endif
#ifdef WITHOUT_VOTE_RULE
#define ABANDONED(i)   (cur[i] > comE[i] && voted[i] == (i) && phase[i] == IDLE && accE[i] != cur[i])
#else
#define ABANDONED(i)   (cur[i] > comE[i] && voted[i] == (i) && phase[i] == IDLE && accE[i] != cur[i] && vo[i] <= comE[i])
#endif
/* Election.isReaffirming: it stands to keep its own site active, on the lease it has. */
#define REAFFIRMING(i) (phase[i] != IDLE && prop[i] == SITE(i))
/* Election.isServingActive, read on the agent's own clock. */
#define SERVING(h)     (comS[h] == SITE(h) && (cur[h] == comE[h] || ABANDONED(h) || REAFFIRMING(h)) && leaseE[h] == comE[h] + 1 && valid[h] > 0)
/* startLeaseRound's guard; in this model (unless SWIFT_TODAY) the holder's own grant obeys
 * the rule of item 2 as every other voter's does: not after storing a newer configuration. */
#ifdef WITHOUT_HOLDER_RULE
#define MAY_RENEW(h)   (comS[h] == SITE(h) && (cur[h] == comE[h] || ABANDONED(h)))
#else
#define MAY_RENEW(h)   (comS[h] == SITE(h) && (cur[h] == comE[h] || ABANDONED(h)) && !STORED_NEWER(h))
#endif
/* onLeaseRequest's guard: voter v renews holder h's lease for h's committed configuration. */
#define MAY_GRANT(v, h) (comE[v] == comE[h] && comS[v] == comS[h] && (cur[v] == comE[v] || ABANDONED(v)) && !STORED_NEWER(v))

/* Property 3: epochs never go backwards at an agent. */
inline SET_CUR(who, epoch) { assert(epoch >= cur[who]); cur[who] = epoch }
inline SET_COM(who, epoch, site) { assert(epoch > comE[who]); comE[who] = epoch; comS[who] = site }

/* Property 2: at most one configuration committed per epoch. */
inline COMMITTED(epoch, site) {
    cm[epoch] = cm[epoch] | BIT(site - 1);
    if :: cm[epoch] == 3 -> printf("MSC: t=%d two configurations committed in e%d\n", clock, epoch) :: else -> skip fi;
    assert(cm[epoch] != 3)
}

/* Election+Voting.swift onVoteResponse, checkVotes: candidate `who` counts v's vote and waits
 * out what it reports; with its own vote that is a majority: it leads the epoch and waits
 * until every reported lease is over (waitingOutLease). */
inline COUNT_VOTE(who, voter, epoch, remaining) {
    until[who] = MAX(until[who], SUB(REPORTED(who, remaining), DRIFT));
    phase[who] = WAIT;
    printf("MSC: t=%d %e leads e%d with the vote of %e, waits %d\n", clock, AG(who), epoch, AG(voter), until[who])
}

inline PICK_AGENT(x) { if :: x = A :: x = B :: x = W fi }
/* An agent (or holder) i for which P(i) holds; not executable if there is none, so that a
 * step begins only when it can happen. */
#define PICK3(x, P)   if :: P(A) -> x = A :: P(B) -> x = B :: P(W) -> x = W fi
#define PICK2(x, P)   if :: P(A) -> x = A :: P(B) -> x = B fi
#define MAY_STAND(i)  (phase[i] == IDLE && cur[i] < MAXE)
#define COLLECTING(i) (phase[i] == COLLECT)
#define WAITED(i)     (phase[i] == WAIT && until[i] == 0)
#define GIVES_UP(i)   (phase[i] != IDLE)
#define COMMITTING(i) (phase[i] == COMMIT)
inline PICK_SITE(x) { if :: x = SA :: x = SB fi }
/* What candidate `who` stands for (Election+Automation.swift desiredCandidacy; operator
 * commands may name any site). */
#ifdef ANY_SITE
inline PROPOSE(who, x) { PICK_SITE(x) }
#else
/* A site's agent for its own site (a reaffirmation, or a failover to it); the witness for the
 * site other than the active one. */
inline PROPOSE(who, x) { if :: who == W -> x = 3 - comS[W] :: else -> x = SITE(who) fi }
#endif
inline PICK_EPOCH(x) { select(x : 1 .. MAXE) }

/* Election+Lease.swift onLeaseRequest, answered by voter `who` for holder h: it grants if
 * MAY_GRANT and records the grant (recordGrant); the holder counts it (onLeaseAck,
 * HolderLease.acknowledge): its lease runs from when it sent the request, for what was
 * granted, minus the margin. Or the request or the answer is lost. */
inline ANSWER_ROUND(h, who) {
    if
    :: MAY_GRANT(who, h) ->
        d = GRANTED(h, who); old = d;
        gu[who] = MAX(gu[who], SUB(d, DRIFT));
        d = HOLDS_FOR(h, d);
        if
        :: d > MARGIN && d - MARGIN + DRIFT > valid[h] -> valid[h] = d - MARGIN + DRIFT
        :: else -> skip
        fi;
        printf("MSC: t=%d %e grants %e's lease in e%d for %d (%e holds it %d more)\n", clock, AG(who), AG(h), comE[h], old, AG(h), valid[h])
    :: true
    fi
}

/* Election+Lease.swift startLeaseRound: the committed active site's agent grants itself its
 * own lease and asks the others (one voter is enough for a majority of 2 of 3). */
inline LEASE_ROUND(h) {
    if
    :: MAY_RENEW(h) ->
        if :: leaseE[h] != comE[h] + 1 -> leaseE[h] = comE[h] + 1; valid[h] = 0 :: else -> skip fi;
        gu[h] = MAX(gu[h], SUB(L(h), DRIFT));
        if
        :: h == A -> ANSWER_ROUND(h, B); ANSWER_ROUND(h, W)
        :: else -> ANSWER_ROUND(h, A); ANSWER_ROUND(h, W)
        fi
    :: else -> skip
    fi
}

/* Election.adopt: takes on a configuration known to be committed, if newer; drops any
 * candidacy and the lease, and a new active site's agent starts its own lease round. */
inline ADOPT(who, epoch, site) {
    SET_COM(who, epoch, site);
    if :: epoch > cur[who] -> SET_CUR(who, epoch); voted[who] = NONE :: else -> skip fi;
    if :: accE[who] <= epoch -> accE[who] = 0; accS[who] = NOSITE :: else -> skip fi;
    phase[who] = IDLE; until[who] = 0;
    if :: who != W -> leaseE[who] = 0; valid[who] = 0 :: else -> skip fi;
    printf("MSC: t=%d %e adopts e%d: %e active\n", clock, AG(who), epoch, ST(site));
    if :: site == SITE(who) -> LEASE_ROUND(who) :: else -> skip fi
}

active proctype election() {
    /* Election.init: a starting voter assumes it just granted a full lease. */
    d_step { for (i : 0 .. N - 1) { voted[i] = NONE; comS[i] = SA; gu[i] = SUB(L(i), DRIFT) } }
    do
    /* Time passes: every stored instant comes one tick closer. */
    :: d_step {
        clock++;
        for (i : 0 .. N - 1) {
            if :: until[i] > 0 -> until[i]-- :: else -> skip fi;
            if :: gu[i] > 0 -> gu[i]-- :: else -> skip fi
        }
        if :: valid[A] > 0 -> valid[A]-- :: else -> skip fi;
        if :: valid[B] > 0 -> valid[B]-- :: else -> skip fi
        }

    /* Election+Automation.swift onTick: the active site's agent renews its lease. */
    :: atomic { PICK2(c, MAY_RENEW); LEASE_ROUND(c) }

    /* Election+Voting.swift startCandidacy: c stands in a newer epoch (up to MAXE: the newest
     * it has seen plus one) for either site, and votes for itself: its own vote reports its
     * own grants (votes[me] = grantedUntil). */
    :: atomic { PICK3(c, MAY_STAND);
        PICK_EPOCH(e); PROPOSE(c, s);
        if
        :: e > cur[c] ->
            SET_CUR(c, e); voted[c] = c;
            phase[c] = COLLECT; prop[c] = s; until[c] = gu[c];
            vreq[e] = vreq[e] | BIT(c);
            printf("MSC: t=%d %e stands in e%d for %e\n", clock, AG(c), e, ST(s))
        :: else -> skip
        fi }

    /* Election+Voting.swift onVoteRequest: v grants c's request of epoch e, once per epoch,
     * only for an epoch newer than its own; the vote is persisted before the reply, drops v's
     * own candidacy and reports how long the lease v last granted may still run. (Refusals for
     * health, maintenance or leader stickiness only take votes away: a vote not granted here.)
     * The answer reaches c at once or never (later, c would only wait longer), and a copy may
     * reach the third agent (replayed or misdirected), which counts it only if votes are not
     * bound to their candidate. */
    :: atomic { PICK_AGENT(v); PICK_AGENT(c); PICK_EPOCH(e);
        if
        :: v != c && HAS(vreq[e], c) && e > cur[v] ->
            SET_CUR(v, e); voted[v] = c; vo[v] = e; phase[v] = IDLE; until[v] = 0;
            d = gu[v];
            printf("MSC: t=%d %e votes for %e in e%d, lease remaining %d\n", clock, AG(v), AG(c), e, d);
            if :: phase[c] == COLLECT && cur[c] == e -> COUNT_VOTE(c, v, e, d) :: true fi;
#ifdef REVERT_VOTE_BINDING
            old = 3 - v - c;
            if :: phase[old] == COLLECT && cur[old] == e -> COUNT_VOTE(old, v, e, d) :: true fi;
#endif
            skip
        :: else -> skip
        fi }

    /* Election+Voting.swift progressCandidacy: the wait is over on the leader's clock; it
     * stores its proposal and asks every voter to. */
    :: atomic { PICK3(c, WAITED);
        e = cur[c];
        phase[c] = COMMIT; until[c] = 0;
        accE[c] = e; accS[c] = prop[c];
        stored[e * 2 + prop[c] - 1] = stored[e * 2 + prop[c] - 1] | BIT(c);
        creq[IX(e, c)] = prop[c];
        printf("MSC: t=%d %e asks to commit e%d: %e active\n", clock, AG(c), e, ST(prop[c])) }

    /* progressCandidacy: a candidacy collecting votes or commit acknowledgements gives up
     * (electionTimeout, at any moment here); or the candidate restarts, which ends a candidacy
     * in any phase (candidacies are never resumed). A restart's other effects only make things
     * safer (the lease is forgotten, the voter assumes it just granted a full lease), so they
     * are left out. */
    :: atomic { PICK3(c, GIVES_UP);
        phase[c] = IDLE; until[c] = 0;
        printf("MSC: t=%d %e gives up (or restarts) in e%d\n", clock, AG(c), cur[c]) }

    /* Election+Voting.swift onCommitRequest: v stores leader c's configuration of epoch e if it
     * is newer than v's committed one and COMMIT_FROM; drops v's own candidacy of an older
     * epoch; acknowledges. */
    :: atomic { PICK_AGENT(v); PICK_AGENT(c); PICK_EPOCH(e);
        s = creq[IX(e, c)];
        if
        :: v != c && s != NOSITE && e > comE[v] && COMMIT_FROM(v, e, c) ->
            if
            :: !(accE[v] == e && accS[v] == s) ->
                old = cur[v];
                if :: e > cur[v] -> SET_CUR(v, e); voted[v] = c :: else -> skip fi;
                accE[v] = e; accS[v] = s;
                stored[e * 2 + s - 1] = stored[e * 2 + s - 1] | BIT(v);
                if :: phase[v] != IDLE && old < e -> phase[v] = IDLE; until[v] = 0 :: else -> skip fi;
                printf("MSC: t=%d %e stores %e's e%d: %e active\n", clock, AG(v), AG(c), e, ST(s))
            :: else -> skip
            fi;
            cack[e] = cack[e] | BIT(v)
        :: else -> skip
        fi }

    /* Election+Voting.swift onCommitAck, checkAcks: leader c counts an acknowledgement of its
     * epoch; with a majority its proposal is committed, and it adopts it. */
    :: atomic { PICK3(c, COMMITTING); PICK_AGENT(v);
        e = cur[c];
        if
        :: v != c && HAS(cack[e], v) ->
            s = prop[c];
            printf("MSC: t=%d %e commits e%d: %e active (acknowledged by %e)\n", clock, AG(c), e, ST(s), AG(v));
            COMMITTED(e, s);
            ADOPT(c, e, s)
        :: else -> skip
        fi }

    /* Election+Evidence.swift adoptClaim, adoptProven: v adopts a configuration a majority
     * stored or its leader committed (heartbeats, lease and vote messages carry the evidence;
     * here it is the history of what was stored and committed). */
    :: atomic { PICK_AGENT(v); PICK_EPOCH(e); PICK_SITE(s);
        if
        :: e > comE[v] && (COUNT(stored[e * 2 + s - 1]) >= MAJ || HAS(cm[e], s - 1)) ->
            COMMITTED(e, s);
            ADOPT(v, e, s)
        :: else -> skip
        fi }

    od
}

/* Property 1, checked in every state: never two sites serving active at the same time. */
active proctype monitor() {
end:
    do
    :: atomic { SERVING(A) && SERVING(B) ->
        printf("MSC: t=%d both serve active: dc_a in e%d and dc_b in e%d\n", clock, comE[A], comE[B]);
        assert(false) }
    od
}
