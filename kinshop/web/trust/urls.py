from django.urls import path

from kinshop.web.trust import views

app_name = "trust"
urlpatterns = [
    path("orders/<id:order_id>/review/", views.review_order, name="review_order"),
    path("orders/<id:order_id>/complain/", views.complain, name="complain"),
    path("complaints/", views.complaints, name="complaints"),
    path("complaints/<id:complaint_id>/", views.complaint, name="complaint"),
    path("complaints/<id:complaint_id>/respond/", views.respond, name="respond"),
    path("console/reviews/", views.reviews_inbox, name="reviews_inbox"),
    path("reviews/<id:review_id>/reply/", views.reply, name="reply"),
]
