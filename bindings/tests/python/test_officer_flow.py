"""The officer flow through the generated Python bindings against a live server: enrol, record
offline, sync, see it on a second device, meet a conflict, observe events, typed errors."""

import asyncio
import datetime as dt
import os
import time

import pytest

UTC = dt.timezone.utc


def thrive(pb):
    e = lambda what: pb.ThriveElement(finding=what, rationale=f"because {what}")
    return pb.Thrive(threat=e("threat"), harm=e("harm"), risk=e("risk"),
                     investigation=e("investigation"), vulnerability=e("vulnerability"),
                     engagement=e("engagement"))


def person(pb, school):
    return pb.YoungPersonDraft(first_name="Amira", last_name="Example",
                               date_of_birth="2012-04-03", age_band=None,
                               establishment_id=school, year_group=9,
                               flags=[pb.VulnerabilityFlag.CHILD_IN_NEED])


def visit(pb, child, hours_ago=3, narrative="Food parcel delivered; mother anxious."):
    start = dt.datetime.now(UTC) - dt.timedelta(hours=hours_ago)
    return pb.VisitDraft(kind=pb.VisitKind.WELFARE_CHECK, prompted_by=pb.PromptedBy.SCHOOL,
                         young_person_ids=[child], start=start,
                         end=start + dt.timedelta(minutes=30), place="Home address",
                         present=["mother"], outcome=pb.VisitOutcome.ADVICE_GIVEN,
                         support_given=[pb.SupportGiven.FOOD], narrative=narrative,
                         follow_up=None)


def recorder(pb):
    """An observer implemented in Python that remembers what it was told."""

    class Recorder(pb.PocketbookObserver):
        def __init__(self):
            self.changes = []
            self.progress = []

        def data_changed(self, change):
            self.changes.append(change)

        def sync_progress(self, phase, done, total):
            self.progress.append((phase, done, total))

    return Recorder()


def test_the_officer_flow_end_to_end(pb, server, new_device):
    alice_id = server.officer("Alice")
    bob_id = server.officer("Bob", role="supervisor")
    a, _ = new_device("alice")
    b, _ = new_device("bob")

    session = asyncio.run(a.enroll(server.url, server.code(alice_id)))
    assert session.officer_id == alice_id
    asyncio.run(b.enroll(server.url, server.code(bob_id)))
    school = a.establishments()[0].id

    events = recorder(pb)
    handle = a.observe(events)

    # Offline: a young person, a visit and a concern.
    child = a.add_young_person(person(pb, school)).id
    v = a.record_visit(visit(pb, child))
    concern = a.raise_concern(pb.ConcernDraft(
        young_person_ids=[child], happened_at=dt.datetime.now(UTC) - dt.timedelta(days=1),
        category=pb.ConcernCategory.NEGLECT, account="No food at weekends.",
        childs_words="We wait for Monday.", risk_text="Ongoing neglect", action_text="DSL told",
        thrive=thrive(pb), risk=pb.Risk.MEDIUM, marking=None))
    assert concern.marking == pb.Marking.OFFICIAL_SENSITIVE
    assert len(a.pending_changes()) == 3
    assert events.changes == [pb.DataChange.LOCAL] * 3
    pending = a.pending_changes()
    assert [(p.entity, p.kind) for p in pending] == [
        (pb.Entity.YOUNG_PERSON, pb.MutationKind.CREATE), (pb.Entity.VISIT, pb.MutationKind.CREATE),
        (pb.Entity.CONCERN, pb.MutationKind.CREATE)]

    report = asyncio.run(a.sync())
    assert report.pushed == 3 and report.rejected == 0
    assert (report.held, report.unreadable) == (0, 0)
    status = a.sync_status()
    assert status.rejected == [] and status.waiting_for_server == []
    assert a.unreadable_records() == []
    with pytest.raises(pb.PocketbookError.NotFound):
        a.discard_refused(99)
    assert (pb.SyncPhase.PUSH, 3, 3) in events.progress
    assert any(phase == pb.SyncPhase.PULL for phase, _, _ in events.progress)
    assert pb.DataChange.SYNCED in events.changes

    # The supervisor's device sees both.
    asyncio.run(b.sync())
    assert b.visit(v.id).narrative == v.narrative
    assert b.concern(concern.id).account == "No food at weekends."
    kinds = [e.kind for e in b.chronology(child, "Strategy meeting")]
    assert kinds == [pb.ChronologyKind.CONCERN, pb.ChronologyKind.VISIT]

    # Both edit the same field offline: one value wins, the other is one conflict.
    a.update_visit(v.id, pb.VisitUpdate(narrative="Alice's note"))
    b.update_visit(v.id, pb.VisitUpdate(narrative="Bob's note"))
    asyncio.run(a.sync())
    asyncio.run(b.sync())
    asyncio.run(a.sync())
    assert a.visit(v.id).narrative == b.visit(v.id).narrative == "Bob's note"
    conflicts = a.conflicts()
    assert len(conflicts) == 1 and conflicts[0].losing_value == '"Alice\'s note"'
    assert (conflicts[0].entity, conflicts[0].field) == (pb.Entity.VISIT, "narrative")
    a.resolve_conflict(conflicts[0].id, pb.ConflictChoice.KEEP_CURRENT)
    assert a.conflicts() == []

    # Dropping the handle stops delivery.
    seen = len(events.changes)
    del handle
    a.add_young_person(person(pb, school))
    assert len(events.changes) == seen


def test_typed_errors(pb, server, new_device):
    alice_id = server.officer("Alice")
    book, key = new_device("alice")

    with pytest.raises(pb.PocketbookError.NotEnrolled):
        book.add_young_person(person(pb, None))

    with pytest.raises(pb.PocketbookError.WrongKey):
        new_device("alice", key=os.urandom(32))
    with pytest.raises(pb.PocketbookError.InvalidInput) as short_key:
        new_device("other", key=b"too short")
    assert short_key.value.field == "key"

    asyncio.run(book.enroll(server.url, server.code(alice_id)))
    school = book.establishments()[0].id
    child = book.add_young_person(person(pb, school)).id
    backwards = visit(pb, child)
    backwards.end = backwards.start - dt.timedelta(minutes=5)
    with pytest.raises(pb.PocketbookError.InvalidInput) as err:
        book.record_visit(backwards)
    assert err.value.field == "end"
    assert "end" in str(err.value)

    with pytest.raises(pb.PocketbookError.Forbidden):
        asyncio.run(new_device("thief")[0].enroll(server.url, "WRONG-CODE-0000"))

    asyncio.run(book.sync())
    device_id = book.session().device_id
    server.admin("device", "revoke", device_id)
    with pytest.raises(pb.PocketbookError.DeviceRevoked):
        asyncio.run(book.sync())
    with pytest.raises(pb.PocketbookError.DeviceRevoked):
        book.visits(None)


def test_actions_engagements_and_addenda_sync(pb, server, new_device):
    alice_id = server.officer("Alice")
    a, _ = new_device("alice")
    b, _ = new_device("alice-tablet")
    asyncio.run(a.enroll(server.url, server.code(alice_id)))
    asyncio.run(b.enroll(server.url, server.code(alice_id)))
    school = a.establishments()[0].id
    child = a.add_young_person(person(pb, school)).id
    concern = a.raise_concern(pb.ConcernDraft(
        young_person_ids=[child], happened_at=dt.datetime.now(UTC) - dt.timedelta(hours=2),
        category=pb.ConcernCategory.ONLINE_HARM, account="Threats in a group chat.",
        childs_words=None, risk_text="Escalating", action_text="Screenshots kept",
        thrive=thrive(pb), risk=pb.Risk.HIGH, marking=pb.Marking.OFFICIAL))
    a.add_addendum(concern.id, "School has the screenshots too.")
    action = a.add_action(pb.ActionDraft(
        kind=pb.ActionKind.CEOP, young_person_id=child, concern_id=concern.id,
        recipient="CEOP", justification="Online sexual harm risk; report required", due=None))
    a.update_action(action.id, pb.ActionUpdate(status=pb.ActionStatus.SENT))
    sweep = a.record_engagement(pb.EngagementDraft(
        kind=pb.EngagementKind.WEAPONS_SWEEP, topics=[pb.EngagementTopic.KNIFE_CRIME],
        establishment_id=school, year_groups=[10, 9], audience_size=0,
        at=dt.datetime.now(UTC) - dt.timedelta(hours=1),
        sweep_result=pb.SweepResult.NOTHING_FOUND, concerns_arising=""))
    assert sweep.year_groups == [9, 10]
    with pytest.raises(pb.PocketbookError.InvalidInput) as err:
        a.record_engagement(pb.EngagementDraft(
            kind=pb.EngagementKind.WEAPONS_SWEEP, topics=[], establishment_id=school,
            year_groups=[], audience_size=0, at=dt.datetime.now(UTC), sweep_result=None,
            concerns_arising=""))
    assert err.value.field == "sweep_result"

    asyncio.run(a.sync())
    asyncio.run(b.sync())
    assert [x.status for x in b.actions(child)] == [pb.ActionStatus.SENT]
    assert [e.kind for e in b.engagements(school)] == [pb.EngagementKind.WEAPONS_SWEEP]
    assert [x.text for x in b.addenda(concern.id)] == ["School has the screenshots too."]
    kinds = [e.kind for e in b.chronology(child, "Review")]
    assert kinds == [pb.ChronologyKind.CONCERN, pb.ChronologyKind.ADDENDUM, pb.ChronologyKind.ACTION]


def test_a_visit_delete_and_a_child_correction_carry_their_reasons(pb, server, new_device):
    lead_id = server.officer("Lena", role="supervisor")
    a, _ = new_device("lena")
    asyncio.run(a.enroll(server.url, server.code(lead_id)))
    school = a.establishments()[0].id
    child = a.add_young_person(person(pb, school)).id
    other = a.add_young_person(person(pb, school)).id
    gone = a.record_visit(visit(pb, child))
    with pytest.raises(pb.PocketbookError.InvalidInput) as err:
        a.delete_visit(gone.id, "   ")
    assert err.value.field == "reason"
    a.delete_visit(gone.id, "Recorded against the wrong family")
    assert a.visits(None) == []
    concern = a.raise_concern(pb.ConcernDraft(
        young_person_ids=[child], happened_at=dt.datetime.now(UTC) - dt.timedelta(hours=2),
        category=pb.ConcernCategory.ONLINE_HARM, account="Threats in a group chat.",
        childs_words=None, risk_text="Escalating", action_text="Screenshots kept",
        thrive=thrive(pb), risk=pb.Risk.HIGH, marking=pb.Marking.OFFICIAL))
    with pytest.raises(pb.PocketbookError.InvalidInput) as err:
        a.correct_concern_child(concern.id, [other], "")
    assert err.value.field == "reason"
    corrected = a.correct_concern_child(concern.id, [other], "Wrong child selected")
    assert corrected.young_person_ids == [other]
    [note] = a.addenda(concern.id)
    assert "Wrong child selected" in note.text
    assert str(child) in note.text and str(other) in note.text
    # One concern update and one addendum create, written together.
    tail = [(m.entity, m.kind) for m in a.pending_changes()][-2:]
    assert tail == [(pb.Entity.CONCERN, pb.MutationKind.UPDATE),
                    (pb.Entity.ADDENDUM, pb.MutationKind.CREATE)]
    # The server decides whether this officer may correct it; either way nothing stays pending.
    asyncio.run(a.sync())
    assert a.pending_changes() == []


def test_reauthenticate_tells_observers_once(pb, server, new_device):
    alice_id = server.officer("Alice")
    book, _ = new_device("alice")
    asyncio.run(book.enroll(server.url, server.code(alice_id)))
    events = recorder(pb)
    handle = book.observe(events)
    session = asyncio.run(book.reauthenticate(server.code(alice_id)))
    assert session.officer_id == alice_id
    assert events.changes == [pb.DataChange.REAUTHENTICATED]
    # A read tells nobody.
    assert book.visits(None) == []
    assert events.changes == [pb.DataChange.REAUTHENTICATED]
    handle.stop()


def test_a_concern_keeps_its_lead_and_sub_categories(pb, server, new_device):
    alice_id = server.officer("Alice")
    lead_id = server.officer("Dana", role="safeguarding_lead")
    book, _ = new_device("alice")
    asyncio.run(book.enroll(server.url, server.code(alice_id)))
    assert lead_id in [o.id for o in book.officers()]
    school = book.establishments()[0].id
    child = book.add_young_person(person(pb, school)).id
    concern = book.raise_concern(pb.ConcernDraft(
        young_person_ids=[child], happened_at=dt.datetime.now(UTC) - dt.timedelta(hours=2),
        category=pb.ConcernCategory.CRIMINAL_EXPLOITATION,
        sub_categories=[pb.ConcernCategory.SUBSTANCES, pb.ConcernCategory.MISSING,
                        pb.ConcernCategory.SUBSTANCES],
        account="Seen carrying for older boys.", childs_words=None, risk_text="County lines",
        action_text="MASH referral", thrive=thrive(pb), risk=pb.Risk.HIGH,
        assigned_lead=lead_id, marking=None))
    assert concern.assigned_lead == lead_id
    # A set: the repeat is dropped.
    assert len(concern.sub_categories) == 2
    assert set(concern.sub_categories) == {pb.ConcernCategory.SUBSTANCES,
                                           pb.ConcernCategory.MISSING}
    again = book.concern(concern.id)
    assert again.assigned_lead == lead_id
    assert len(again.sub_categories) == 2
    # Both may be left out: no lead, no sub-categories.
    plain = book.raise_concern(pb.ConcernDraft(
        young_person_ids=[child], happened_at=dt.datetime.now(UTC) - dt.timedelta(hours=1),
        category=pb.ConcernCategory.NEGLECT, account="No coat in winter.", childs_words=None,
        risk_text="Low", action_text="School told", thrive=thrive(pb), risk=pb.Risk.LOW,
        marking=None))
    assert plain.assigned_lead is None and plain.sub_categories == []


def test_bad_certificates_and_unknown_conflicts_are_typed(pb, server, new_device):
    alice_id = server.officer("Alice")
    book, _ = new_device("alice")
    asyncio.run(book.enroll(server.url, server.code(alice_id)))
    with pytest.raises(pb.PocketbookError.InvalidInput) as err:
        book.trust_certificate("this is not a certificate")
    assert err.value.field == "certificate"
    with pytest.raises(pb.PocketbookError.InvalidInput) as err:
        book.trust_certificate("-----BEGIN CERTIFICATE-----\nbm90IGRlcg==\n-----END CERTIFICATE-----\n")
    assert err.value.field == "certificate"
    with pytest.raises(pb.PocketbookError.NotFound):
        book.resolve_conflict("0" * 32, pb.ConflictChoice.KEEP_CURRENT)
