from flask import Blueprint

bp = Blueprint("forums", __name__)
