"""Page script for st.navigation (file-based so AppTest can switch to it); the page lives in app.views.analyse."""
from app.views import analyse

analyse.render()
