"""Who may use the war room: a Cognito user pool, its hosted sign-in, one public client.

- Accounts are made by an administrator (no self sign-up): incident rooms are for staff.
- The web client signs in with the authorization-code flow and PKCE through the hosted
  UI (a public client: no secret), and sends the ID token (`JWT_TOKEN_USE=id`) to both
  APIs.
- `user_sync` keeps `tr_users` in step: post-confirmation for a new account and
  pre-token-generation for every sign-in and refresh (a renamed user shows under the new
  name within an hour). The trigger never blocks a sign-in: it logs and carries on.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constants import OAUTH_SCOPES, SERVICE_NAME, StageConfig
from infra.constructs.nag import acknowledge


class Identity(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        callback_urls: list[str],
        user_sync: lambda_.IFunction,
        domain_prefix: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{SERVICE_NAME}-{config.name}",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            # The e-mail is the user's identity here: a change takes effect only once the
            # new address is verified, so nobody can claim another person's address.
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True),
                fullname=cognito.StandardAttribute(required=False, mutable=True),
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.REQUIRED if config.mfa_required else cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            lambda_triggers=cognito.UserPoolTriggers(
                post_confirmation=user_sync, pre_token_generation=user_sync
            ),
            deletion_protection=config.is_production,
            removal_policy=RemovalPolicy.RETAIN if config.is_production else RemovalPolicy.DESTROY,
        )
        # Hosted-UI domains are global per region: the account id keeps ours unique.
        self.domain = self.user_pool.add_domain(
            "Domain",
            cognito_domain=cognito.CognitoDomainOptions(
                domain_prefix=domain_prefix or f"{SERVICE_NAME}-{config.name}-{Aws.ACCOUNT_ID}"
            ),
        )
        self.client = self.user_pool.add_client(
            "WebClient",
            user_pool_client_name=f"{SERVICE_NAME}-web",
            generate_secret=False,  # a browser cannot keep a secret: PKCE instead
            # The browser signs in through the hosted UI (code + PKCE), which needs no
            # explicit flow: SRP is off. admin_user_password: `make smoke` signs its
            # throw-away users in with AdminInitiateAuth, which needs IAM credentials of
            # the account (a browser has none), so it opens nothing to the public.
            auth_flows=cognito.AuthFlow(admin_user_password=True),
            # Users may change their display name, never their e-mail (their identity).
            write_attributes=cognito.ClientAttributes().with_standard_attributes(fullname=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.custom(scope) for scope in OAUTH_SCOPES],
                callback_urls=callback_urls,
                logout_urls=callback_urls,
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(7 if config.is_production else 30),
        )
        # The `iss` claim of the pool's tokens (the ProviderURL attribute lacks https://).
        self.issuer = (
            f"https://cognito-idp.{Aws.REGION}.{Aws.URL_SUFFIX}/{self.user_pool.user_pool_id}"
        )
        self.hosted_ui_url = self.domain.base_url()

        acknowledge(
            self.user_pool,
            "AwsSolutions-COG8",
            "The Plus feature plan only adds threat protection here (see COG3); Essentials"
            " covers the hosted sign-in with PKCE.",
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG3",
            "Threat protection needs the Plus feature plan (priced per active user); the pool"
            " holds admin-provisioned staff accounts with a strong password policy.",
        )
        if not config.mfa_required:
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG2",
                "Development stage: TOTP MFA is optional here; production requires it.",
            )
