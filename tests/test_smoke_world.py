from recognition.models import RecognitionAgreement


def test_world_builds(world):
    assert world.cn_recognizes_cl.status == "active"
    assert list(world.cn_recognizes_cl.credential_types.values_list("code", flat=True)) == ["merchant-identity"]
    history = RecognitionAgreement.history.filter(id=world.cn_recognizes_cl.id)
    assert history.count() == 1
    assert list(history.first().credential_types.values_list("credentialtype__code", flat=True)) == [
        "merchant-identity"
    ]
