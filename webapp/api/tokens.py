"""Partner API, tokens: log in for a token (django-axes guards it), list, rotate, revoke."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.api.errors import ApiError
from webapp.api.permissions import ANY_SCOPE, HasScope
from webapp.partners import tokens
from webapp.partners.models import ALL_SCOPES, PartnerToken


class TokenSerializer(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = PartnerToken
        fields = ["prefix", "name", "scopes", "expires_at", "last_used_at", "revoked_at", "active"]
        read_only_fields = fields


class IssuedTokenSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="the key: shown only this once")

    class Meta(TokenSerializer.Meta):
        fields = ["token", *TokenSerializer.Meta.fields]
        read_only_fields = fields


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)
    name = serializers.CharField(max_length=64, required=False, default="api login")
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ALL_SCOPES), required=False, min_length=1,
        default=list(ALL_SCOPES),
    )  # fmt: skip


def issued_body(issued: tokens.IssuedToken) -> dict:
    return {"token": issued.key, **TokenSerializer(issued.token).data}


class TokenLogin(APIView):
    """A user name and password for a new token (expires after PARTNER_TOKEN_DAYS days).

    After 30 wrong passwords for one user name or from one address the answer is 429, without
    checking the password, until the lockout ends (Retry-After).
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=LoginSerializer, responses={201: IssuedTokenSerializer})
    def post(self, request: Request) -> Response:
        form = LoginSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=form.validated_data["username"],
            password=form.validated_data["password"],
        )
        if user is None:
            raise ApiError(
                status_code=status.HTTP_400_BAD_REQUEST,
                code="invalid_credentials",
                detail="unable to log in with these credentials",
            )
        issued = tokens.token_create(
            user=user, name=form.validated_data["name"], scopes=form.validated_data["scopes"]
        )
        return Response(issued_body(issued), status=status.HTTP_201_CREATED)


class TokenList(generics.ListAPIView):
    """Your tokens (never their keys)."""

    permission_classes = [HasScope]
    scopes = {"GET": ANY_SCOPE}
    serializer_class = TokenSerializer
    filter_backends: list = []
    pagination_class = None

    def get_queryset(self):
        return tokens.token_list_for(user=self.request.user)


class TokenRotate(APIView):
    """A new key for the token this request came with; the old key stops working now."""

    permission_classes = [HasScope]
    scopes = {"POST": ANY_SCOPE}

    @extend_schema(request=None, responses={201: IssuedTokenSerializer})
    def post(self, request: Request) -> Response:
        if not isinstance(request.auth, PartnerToken):
            raise ApiError(
                status_code=status.HTTP_400_BAD_REQUEST,
                code="token_required",
                detail="rotate with the token to replace in the Authorization header",
            )
        issued = tokens.token_rotate(token=request.auth)
        return Response(issued_body(issued), status=status.HTTP_201_CREATED)


class TokenRevoke(APIView):
    """Stop one of your tokens now."""

    permission_classes = [HasScope]
    scopes = {"POST": ANY_SCOPE}

    @extend_schema(request=None, responses={200: TokenSerializer})
    def post(self, request: Request, prefix: str) -> Response:
        token = tokens.token_list_for(user=request.user).filter(prefix=prefix).first()
        if token is None:
            raise Http404
        return Response(TokenSerializer(tokens.token_revoke(token=token)).data)
