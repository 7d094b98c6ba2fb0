"""The shared package of the incident war-room: models, domain logic, data access.

Every Lambda function and every local tool imports it; nothing here does work at
import time.
"""
