"""Use cases for people: sign up, tokens, identity. The only writers of accounts."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from kinshop.accounts import queries, rules
from kinshop.accounts.models import ApiToken, Identifier, IdentityVerification, User
from kinshop.core import clock
from kinshop.core.errors import Conflict, InvalidInput, NotAuthenticated


def register(
    *, username: str, password: str, email: str = "", phone: str = "", device_id: str = ""
) -> User:
    """Anyone may sign up; a username is unique regardless of case. The phone is
    stored in its canonical form and, with the device signed up on, kept as an
    identifier of the person (linked identities)."""
    username = username.strip()
    if not rules.is_valid_username(username):
        raise InvalidInput(
            "A username has 3 to 150 letters, digits or . @ + - _.", code="invalid_username"
        )
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict("This username is taken.", code="username_taken")
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as error:
            raise InvalidInput("This e-mail address is not valid.", code="invalid_email") from error
    phone = rules.normalise_phone(phone or "")
    if phone and not rules.is_valid_phone(phone):
        raise InvalidInput("This phone number is not valid.", code="invalid_phone")
    user = User(username=username, email=email, phone=phone)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages), code="weak_password") from error
    user.set_password(password)
    user.save()
    note_identifiers(user=user, phones=[phone], devices=[device_id], at=clock.now())
    return user


def create_token(
    *, username: str, password: str, name: str = "", device_id: str = ""
) -> tuple[ApiToken, str]:
    """Exchange a username and password for a bearer token, shown only once.
    (The API signs in through `accounts.auth.sign_in`, which throttles, and
    then calls `issue_token`; this is for tests, scripts and the demo.)"""
    user = User.objects.filter(username__iexact=username.strip()).first()
    if user is None:
        # Hash anyway, so the answer takes as long for an unknown username.
        User().set_password(password)
    if user is None or not user.is_active or not user.check_password(password):
        raise NotAuthenticated("Wrong username or password.", code="invalid_credentials")
    return issue_token(user=user, name=name, device_id=device_id)


def issue_token(*, user: User, name: str = "", device_id: str = "") -> tuple[ApiToken, str]:
    """A new bearer token for a user who has just proved who they are; only its
    hash is kept, and the fingerprint of the password it was issued under. The
    app's device is kept as an identifier of the person (linked identities)."""
    token = rules.new_token()
    note_identifiers(user=user, devices=[device_id], at=clock.now())
    record = ApiToken.objects.create(
        user=user,
        key_hash=rules.hash_token(token),
        prefix=token[:10],
        name=name[:60],
        last_used_at=clock.now(),
        password_fingerprint=rules.password_fingerprint(user.password, settings.SECRET_KEY),
    )
    return record, token


def token_for(token: str) -> ApiToken | None:
    """The live token record for a bearer token, with its user: not revoked,
    issued under the user's current password, used within the idle limit.
    Its last use is written at most once an hour, by a conditional update."""
    record = queries.unrevoked_token(rules.hash_token(token))
    if record is None:
        return None
    fingerprint = rules.password_fingerprint(record.user.password, settings.SECRET_KEY)
    if not hmac.compare_digest(record.password_fingerprint, fingerprint):
        return None
    now = clock.now()
    if rules.is_token_idle(
        created_at=record.created_at,
        last_used_at=record.last_used_at,
        now=now,
        idle_days=settings.KINSHOP_TOKEN_IDLE_DAYS,
    ):
        return None
    if rules.needs_touch(record.last_used_at, now):
        ApiToken.objects.filter(
            pk=record.pk, last_used_at=record.last_used_at, revoked_at__isnull=True
        ).update(last_used_at=now)
    return record


def user_for_token(token: str) -> User | None:
    record = token_for(token)
    return record.user if record else None


def revoke_token(*, token: ApiToken) -> None:
    """The token stops working now; revoking it again changes nothing."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=clock.now())


def change_password(*, user: User, old_password: str, new_password: str) -> User:
    """A new password that passes the validators, given the current one; every
    token the user had is revoked (a page or the admin changing the password
    invalidates them too: see `ApiToken.password_fingerprint`)."""
    if not user.check_password(old_password):
        raise InvalidInput("The current password is wrong.", code="wrong_password")
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages), code="weak_password") from error
    user.set_password(new_password)
    user.save(update_fields=["password"])
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=clock.now())
    return user


def verify_identity(*, user: User, real_name: str, id_number: str) -> IdentityVerification:
    """Record a real-name verification (a KYC provider would be called here)."""
    real_name = real_name.strip()
    if not 2 <= len(real_name) <= 60:
        raise InvalidInput("Give your full legal name.", code="invalid_real_name")
    canonical = rules.normalise_id_number(id_number)
    if canonical is None:
        raise InvalidInput(
            "An ID number has 18 characters: 17 digits and a check digit or X that matches them.",
            code="invalid_id_number",
        )
    id_number_hash = rules.hash_id_number(canonical, settings.SECRET_KEY)
    if (
        IdentityVerification.objects.filter(id_number_hash=id_number_hash)
        .exclude(user=user)
        .exists()
    ):
        raise Conflict("This ID number already verifies another account.", code="id_number_in_use")
    identity, _ = IdentityVerification.objects.update_or_create(
        user=user,
        defaults={
            "real_name": real_name,
            "id_number_masked": rules.mask_id_number(canonical),
            "id_number_hash": id_number_hash,
            "verified_at": clock.now(),
        },
    )
    return identity


def is_identity_verified(user: User) -> bool:
    return IdentityVerification.objects.filter(user=user).exists()


def note_identifiers(
    *,
    user: User | int,
    at,
    phones: Iterable[str] = (),
    devices: Iterable[str] = (),
    payers: Iterable[str] = (),
) -> None:
    """Remember phones, devices and payer accounts seen with `user` (a user or
    their id), in their canonical form. One statement, or none when there is nothing; harmless when
    already known. Rows go in a fixed order, so two transactions noting the same
    identifiers queue rather than deadlock."""
    found = rules.identifiers(phones=phones, devices=devices, payers=payers)
    if found:
        user_id = user if isinstance(user, int) else user.pk
        Identifier.objects.bulk_create(
            [
                Identifier(user_id=user_id, kind=kind, value=value, first_seen_at=at)
                for kind, value in sorted(found)
            ],
            ignore_conflicts=True,
        )


def identifiers_of(user_ids: Iterable[int]) -> dict[int, frozenset[rules.Identifier]]:
    """The identifiers each of these users has been seen with, in one query."""
    found: dict[int, set[rules.Identifier]] = {user_id: set() for user_id in user_ids}
    for user_id, kind, value in Identifier.objects.filter(user_id__in=list(found)).values_list(
        "user_id", "kind", "value"
    ):
        found[user_id].add((kind, value))
    return {user_id: frozenset(values) for user_id, values in found.items()}
