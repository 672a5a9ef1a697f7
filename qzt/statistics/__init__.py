"""数据统计 for the authority and the operator: listed institutions by category and district, applications
and decisions, consultations with the Art. 14 compliance rate, valid orders, ratings and complaints, per
month, each as a chart (SVG, drawn on the server), its table and an Excel download."""

from flask import Blueprint

bp = Blueprint("statistics", __name__)
