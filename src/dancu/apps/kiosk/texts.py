"""The kiosk's and the dashboard's texts, Vietnamese first with English (the page's switch)."""

from __future__ import annotations

from dancu.apps.public_services import catalogue

T: dict[str, tuple[str, str]] = {
    "title": ("Ki-ốt dịch vụ công tự phục vụ", "Self-service public service kiosk"),
    "present": ("Xin mời xuất trình thẻ Căn cước", "Please present your identity card"),
    "qr_label": ("Đưa mã QR trên thẻ vào máy quét", "Hold the QR code of your card under the scanner"),
    "qr_button": ("Xác thực bằng mã QR", "Identify with the QR code"),
    "photo_label": ("Hoặc chụp ảnh mã QR trên thẻ", "Or take a photo of the card's QR code"),
    "photo_button": ("Xác thực bằng ảnh chụp", "Identify with the photo"),
    "chip_label": ("Hoặc đặt thẻ lên đầu đọc chip", "Or place your card on the chip reader"),
    "no_typing": (
        "Bạn không cần nhập thông tin cá nhân: dữ liệu được lấy từ thẻ và Cơ sở dữ liệu quốc gia về dân cư.",
        "You type no personal data: it comes from your card and the national population database.",
    ),
    "can_label": (
        "6 số cuối của số định danh in trên thẻ",
        "The last 6 digits of the ID number on your card",
    ),
    "can_help": (
        "Dùng để mở chip trên thẻ; không gửi lên hệ thống.",
        "They open the card's chip; they are not sent to the system.",
    ),
    "chip_button": ("Đọc chip trên thẻ", "Read the card's chip"),
    "chip_reading": ("Đang đọc thẻ…", "Reading the card…"),
    "chip_access_denied": (
        "Thẻ không chấp nhận các chữ số này. Vui lòng kiểm tra và thử lại.",
        "The card did not accept these digits. Check them and try again.",
    ),
    "chip_no_card": ("Vui lòng đặt thẻ nằm phẳng trên đầu đọc.", "Place your card flat on the reader."),
    "chip_unavailable": (
        "Đầu đọc thẻ không sẵn sàng. Vui lòng dùng mã QR.",
        "The card reader is not available. Please use the QR code.",
    ),
    "expired": (
        "Phiên làm việc trước đã kết thúc và được xoá.",
        "The previous session ended and was wiped.",
    ),
    "not_identified": ("Không xác thực được thẻ", "The card could not be verified"),
    "go_desk": ("Xin mời đến quầy tiếp nhận để được hỗ trợ.", "Please go to the reception desk for help."),
    "no_account": (
        "Thẻ hợp lệ, nhưng bạn chưa có tài khoản định danh điện tử đang hoạt động.",
        "Your card is valid, but you have no active electronic identification account.",
    ),
    "no_account_hint": (
        "Đăng ký tài khoản trên ứng dụng VNeID hoặc tại quầy công an, sau đó quay lại ki-ốt.",
        "Register an account in the VNeID app or at the police desk, then come back to the kiosk.",
    ),
    "code_title": ("Xác nhận bạn là chủ tài khoản", "Confirm that you hold the account"),
    "code_why": (
        "Mã QR chỉ cho biết thông tin in trên thẻ khớp với Cơ sở dữ liệu quốc gia về dân cư, "
        "không chứng minh bạn là người giữ thẻ. Chúng tôi đã gửi mã xác thực gồm 6 chữ số "
        "bằng tin nhắn tới số điện thoại đã xác minh của tài khoản định danh điện tử:",
        "A QR code only shows that the card's printed data match the national population database, not "
        "that you hold the card. We sent a 6-digit code by SMS to the verified phone of the eID account:",
    ),
    "code_label": ("Mã xác thực", "Code"),
    "code_help": (
        "Mã xác thực không phải thông tin cá nhân: hãy chạm các số trên bàn phím. Mã có hiệu lực 5 phút.",
        "The code is not personal data: tap the digits on the keypad. It is valid for 5 minutes.",
    ),
    "code_submit": ("Xác nhận mã", "Confirm the code"),
    "code_delete": ("Xoá số cuối", "Delete the last digit"),
    "code_clear": ("Xoá hết", "Clear"),
    "code_resend": ("Gửi lại mã", "Send the code again"),
    "code_resent": (
        "Đã gửi mã mới. Mã cũ không còn dùng được.",
        "A new code was sent. The old one no longer works.",
    ),
    "code_throttled": (
        "Chưa thể gửi mã mới. Vui lòng chờ rồi thử lại (giây):",
        "A new code cannot be sent yet. Please wait and try again (seconds):",
    ),
    "code_wrong": ("mã không đúng hoặc đã hết hạn", "the code is wrong or has expired"),
    "code_format": ("Mã xác thực: gồm đúng 6 chữ số", "Code: exactly 6 digits"),
    "code_left": ("Số lần thử còn lại", "Tries left"),
    "code_first": (
        "Cần nhập mã xác thực trước khi xem thông tin hoặc nộp hồ sơ.",
        "Enter the code first: no data are shown and no dossier is submitted before.",
    ),
    "code_other_way": (
        "Không nhận được mã? Hãy kết thúc, đặt thẻ lên đầu đọc chip, hoặc đến quầy tiếp nhận.",
        "No code? Finish, then place your card on the chip reader, or go to the reception desk.",
    ),
    "no_phone": (
        "Tài khoản định danh điện tử của bạn chưa có số điện thoại đã xác minh.",
        "Your eID account has no verified phone number.",
    ),
    "no_phone_hint": (
        "Mã QR không chứng minh bạn là người giữ thẻ. Hãy đặt thẻ lên đầu đọc chip, "
        "hoặc đến quầy tiếp nhận để được hỗ trợ.",
        "A QR code does not prove that you hold the card. Place your card on the chip reader, "
        "or go to the reception desk for help.",
    ),
    "locked": (
        "Nhập sai mã quá số lần cho phép. Phiên làm việc đã kết thúc và được xoá.",
        "Too many wrong codes. The session has ended and was wiped.",
    ),
    "locked_hint": (
        "Hãy đặt thẻ lên đầu đọc chip, hoặc đến quầy tiếp nhận để được hỗ trợ.",
        "Place your card on the chip reader, or go to the reception desk for help.",
    ),
    "choose": ("Chọn dịch vụ", "Choose a service"),
    "needs_chip": (
        "Cần đặt thẻ lên đầu đọc chip (định danh mức 2)",
        "Needs the card on the chip reader (eID level 2)",
    ),
    "none": ("Chưa có dịch vụ nào sẵn sàng tại ki-ốt.", "No service is available at the kiosk yet."),
    "your_data": ("Thông tin của bạn (tự động điền)", "Your data (filled in for you)"),
    "source": ("Nguồn", "Source"),
    "only_you": ("Thông tin bạn cần cung cấp", "What only you can tell us"),
    "submit": ("Nộp hồ sơ", "Submit the dossier"),
    "back": ("Quay lại", "Back"),
    "finish": ("Kết thúc", "Finish"),
    "problems": ("Vui lòng kiểm tra lại", "Please check"),
    "unavailable": (
        "Hệ thống cơ sở dữ liệu tạm thời không truy cập được. Vui lòng thử lại sau hoặc đến quầy.",
        "The registry cannot be reached just now. Please try again later or go to the desk.",
    ),
    "receipt": ("Biên nhận hồ sơ", "Dossier receipt"),
    "tracking": ("Mã hồ sơ", "Tracking code"),
    "service": ("Thủ tục", "Procedure"),
    "authority": ("Cơ quan giải quyết", "Competent authority"),
    "submitted_at": ("Thời gian nộp", "Submitted at"),
    "due": ("Hẹn trả kết quả", "Result due"),
    "status": ("Trạng thái", "Status"),
    "office": ("Nơi nộp", "Submitted at office"),
    "scan_track": (
        "Quét mã QR để theo dõi hồ sơ trên Cổng dịch vụ công (đăng nhập bằng tài khoản định danh).",
        "Scan the QR code to follow the dossier on the portal (log in with your eID account).",
    ),
    "print": ("In biên nhận", "Print the receipt"),
    "another": ("Nộp thủ tục khác", "Another procedure"),
    "display": ("Hiển thị", "Display"),
    "contrast": ("Tương phản cao", "High contrast"),
    "size_normal": ("Chữ thường", "Normal text"),
    "size_large": ("Chữ lớn", "Large text"),
    "size_larger": ("Chữ rất lớn", "Larger text"),
    "idle_warning": (
        "Phiên sẽ kết thúc và được xoá sau ít giây nữa. Chạm vào màn hình để tiếp tục.",
        "The session will end and be wiped in a few seconds. Touch the screen to continue.",
    ),
    "refused": ("Thiết bị này chưa được đăng ký làm ki-ốt.", "This device is not registered as a kiosk."),
    "enrol_title": ("Đăng ký ki-ốt này", "Register this kiosk"),
    "enrol_intro": (
        "Dành cho quản trị viên của cơ quan: nhập khoá thiết bị đã cấp cho ki-ốt này. "
        "Khoá chỉ lưu trong trình duyệt này.",
        "For the office's administrator: enter the device key issued for this kiosk. "
        "The key is kept in this browser only.",
    ),
    "enrol_key": ("Khoá thiết bị", "Device key"),
    "enrol_submit": ("Đăng ký", "Register"),
    "link_retired": (
        "Liên kết ghi danh không còn mang khoá thiết bị. Mở trang đăng ký ki-ốt và nhập khoá tại đó:",
        "Enrolment links no longer carry the device key. "
        "Open the kiosk registration page and enter the key there:",
    ),
    "skip": ("Bỏ qua đến nội dung chính", "Skip to the main content"),
}

SOURCES: dict[str, tuple[str, str]] = {
    catalogue.REGISTRY: ("CSDL quốc gia về dân cư", "National population database"),
    catalogue.EID: ("Tài khoản định danh điện tử", "eID account"),
    catalogue.CITIZEN: ("Công dân khai", "Supplied by the citizen"),
}


def text(key: str, lang: str) -> str:
    vi, en = T[key]
    return en if lang == "en" else vi
