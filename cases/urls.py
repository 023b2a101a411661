from django.urls import path

from cases import views

app_name = "cases"
urlpatterns = [
    path("", views.case_index, name="index"),
    path("new/", views.case_new, name="new"),
    path("board/", views.escalation_board, name="board"),
    path("policies/", views.policy_admin, name="policies"),
    path("policies/calendar/", views.calendar_admin, name="calendar"),
    path("policies/triage/", views.triage_train, name="triage_train"),
    path("triage/suggest/", views.triage_suggest, name="triage_suggest"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/transition/", views.case_transition, name="transition"),
    path("<int:pk>/comment/", views.case_comment, name="comment"),
    path("<int:pk>/assign/", views.case_assign, name="assign"),
    path("<int:pk>/decide/", views.case_decide, name="decide"),
    path("<int:pk>/attach/", views.case_attach, name="attach"),
]
