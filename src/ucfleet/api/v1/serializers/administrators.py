"""Administrators (API.md "Resources"): `password` is write-only and never answered."""

from __future__ import annotations

from rest_framework import serializers

from ucfleet.accounts.choices import Language, Profile
from ucfleet.accounts.models import Administrator
from ucfleet.api.fields import IdField


class AdministratorSerializer(serializers.ModelSerializer):
    partner = serializers.IntegerField(source="partner_id", read_only=True, allow_null=True)

    class Meta:
        model = Administrator
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "profile",
            "partner",
            "language",
            "is_active",
        ]
        read_only_fields = fields


class AdministratorCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        write_only=True, max_length=4096, trim_whitespace=False, help_text="Django's validators."
    )
    profile = serializers.ChoiceField(choices=Profile.choices)
    partner = IdField(
        required=False,
        allow_null=True,
        help_text="Partner profiles; defaults to a partner administrator's own partner.",
    )
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    language = serializers.ChoiceField(choices=Language.choices, required=False)


class AdministratorUpdateSerializer(serializers.Serializer):
    """User name, profile and partner are fixed: create another administrator instead."""

    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    is_active = serializers.BooleanField(
        required=False, help_text="Deactivating revokes the administrator's API tokens."
    )
    password = serializers.CharField(
        write_only=True,
        required=False,
        max_length=4096,
        trim_whitespace=False,
        help_text="A new password (Django's validators); revokes the administrator's API tokens.",
    )
    current_password = serializers.CharField(
        write_only=True,
        required=False,
        max_length=4096,
        trim_whitespace=False,
        help_text="Needed to change one's own password.",
    )
