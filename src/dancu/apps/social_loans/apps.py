from django.apps import AppConfig


class SocialLoansConfig(AppConfig):
    name = "dancu.apps.social_loans"
    label = "social_loans"
    verbose_name = "Tín dụng chính sách xã hội / Social-policy loans"
